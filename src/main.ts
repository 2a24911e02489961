// The entry point: first the young generation's size (it may restart this process with a V8 flag),
// then everything else, loaded only after that.
import { startWithGatewayYoungGeneration } from './young-generation.js';

startWithGatewayYoungGeneration();
await import('./bootstrap.js');
