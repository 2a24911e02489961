#!/usr/bin/env node
// The container's HEALTHCHECK: GET /health where the gateway serves it: ADMIN_LISTEN when set
// (--admin-listen moves its own endpoints there), else LISTEN.
// Exits 0 when the gateway answers 200 within two seconds, 1 otherwise.
import http from 'node:http';

const listen = process.env.ADMIN_LISTEN || process.env.LISTEN || ':3000';
const separator = listen.lastIndexOf(':');
const port = Number(listen.slice(separator + 1));
let host = listen.slice(0, separator).replace(/^\[|\]$/g, '');
// A wildcard listener is reachable on loopback.
if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
if (host === '::') host = '::1';

const request = http.get({ host, port, path: '/health', timeout: 2_000 }, (response) => {
  response.resume();
  process.exit(response.statusCode === 200 ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', (error) => {
  console.error(`healthcheck: ${error.message}`);
  process.exit(1);
});
