import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway-config.js';
import { parseGatewayConfig } from './parse-gateway-config.js';
import { ROUTING_CONFIG, type RoutingConfig } from './routing-config.js';
import { routingAtStart } from './routing-at-start.js';

export interface GatewayConfigSource {
  /** Command-line arguments, without node and the script. */
  readonly argv: readonly string[];
  /** Variables to read instead of the process environment (tests use this to stay hermetic). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The module to import, and the config it provides (the HTTP adapter needs it before DI exists). */
export interface LoadedGatewayConfig {
  readonly module: DynamicModule;
  readonly config: GatewayConfig;
  /** The services and routes the gateway starts with: --config's, or the flags' one service. */
  readonly routing: RoutingConfig;
}

/** Provides the frozen GatewayConfig under GATEWAY_CONFIG to every module. */
@Module({})
export class GatewayConfigModule {
  /**
   * Reads the flags and the environment once, then the config file if --config names one. The environment comes through @nestjs/config: its
   * `validate` hook hands over the variables at boot, which is where flags and variables meet.
   * @throws ConfigError (or HelpRequested) before any application exists, so nothing has listened.
   */
  static async load(source: GatewayConfigSource): Promise<LoadedGatewayConfig> {
    let config: GatewayConfig | undefined;
    const environment = await ConfigModule.forRoot({
      ignoreEnvFile: true,
      ignoreEnvVars: source.env !== undefined,
      validate: (variables) => {
        config = parseGatewayConfig(source.argv, (source.env ?? variables) as Record<string, string | undefined>);
        return variables;
      },
    });
    const routing = routingAtStart(config!);
    const module: DynamicModule = {
      module: GatewayConfigModule,
      global: true,
      imports: [environment],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: ROUTING_CONFIG, useValue: routing },
      ],
      exports: [GATEWAY_CONFIG, ROUTING_CONFIG],
    };
    return { module, config: config!, routing };
  }
}
