import { ConfigError, HelpRequested } from './config.error.js';
import { envNameOf, FLAGS, type FlagSpec } from './flags.js';
import type { GatewayConfig } from './gateway-config.js';
import { formatListenAddress, type ListenAddress } from './listen-address.js';
import { formatDuration } from './duration.js';
import { SLOW_START_NOT_WITH_HASHING } from './value-parsers.js';

/** Where a flag's text came from, so an error can name what the user actually typed. */
interface RawValue {
  readonly text: string;
  /** `--rate-limit` or `RATE_LIMIT` */
  readonly source: string;
}

const FLAGS_BY_NAME = new Map(FLAGS.map((spec) => [spec.name, spec]));

/**
 * Builds the frozen GatewayConfig from command-line arguments and environment variables.
 * Arguments follow Go's flag package: `-name=value`, `--name=value`, `-name value`,
 * `--name value`, bare `-name` for booleans, `--` ends the flags. A flag wins over its variable;
 * an empty variable counts as unset.
 * @throws ConfigError naming the flag or variable and its value; HelpRequested for --help.
 */
export function parseGatewayConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): GatewayConfig {
  const fromArgs = readArguments(argv);
  const config: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const spec of FLAGS) {
    const envName = envNameOf(spec.name);
    const envText = env[envName];
    const raw: RawValue =
      fromArgs.get(spec.name) ??
      (envText !== undefined && envText !== '' ? { text: envText, source: envName } : { text: spec.defaultText, source: `--${spec.name}` });
    config[spec.key] = parseValue(spec, raw);
    sources[spec.key] = raw.source;
  }
  const parsed = Object.freeze(config) as unknown as GatewayConfig;
  SOURCES.set(parsed, Object.freeze(sources) as Record<keyof GatewayConfig, string>);
  refuseSharedListener(parsed);
  refuseClientCaWithoutTls(parsed);
  refuseHalfAPair(parsed, 'tlsCertPath', 'tlsKeyPath', ' to serve HTTPS');
  refuseHalfAPair(parsed, 'upstreamCertPath', 'upstreamKeyPath', '');
  refuseBalancingMismatch(parsed);
  return parsed;
}

/** Where each field of a parsed config came from, for messages about it after parsing. */
const SOURCES = new WeakMap<GatewayConfig, Readonly<Record<keyof GatewayConfig, string>>>();

/**
 * What set a field, as the user would recognise it: `--listen` (given, or its default) or `LISTEN`.
 * A config not made by parseGatewayConfig (a test's literal) answers with the flag's name.
 */
export function sourceOf(config: GatewayConfig, key: keyof GatewayConfig): string {
  return SOURCES.get(config)?.[key] ?? `--${FLAGS.find((spec) => spec.key === key)?.name ?? key}`;
}

/** Both listeners on one port (and overlapping hosts) could never start: say so before trying. */
function refuseSharedListener(config: GatewayConfig): void {
  const { listen, adminListen } = config;
  if (!adminListen || !overlaps(listen, adminListen)) return;
  throw new ConfigError(
    `invalid ${sourceOf(config, 'adminListen')} ${JSON.stringify(formatListenAddress(adminListen))}: ` +
      `it is the address of ${sourceOf(config, 'listen')} (${formatListenAddress(listen)}); the admin endpoints need an address of their own`,
  );
}

/** Client certificates are asked for in the TLS handshake: there is none without HTTPS. */
function refuseClientCaWithoutTls(config: GatewayConfig): void {
  if (config.tlsClientCaPath === undefined || config.tlsCertPath !== undefined) return;
  throw new ConfigError(
    `invalid ${sourceOf(config, 'tlsClientCaPath')} ${JSON.stringify(config.tlsClientCaPath)}: client certificates need HTTPS (${sourceOf(config, 'tlsCertPath')} and ${sourceOf(config, 'tlsKeyPath')})`,
  );
}

type PathField = 'tlsCertPath' | 'tlsKeyPath' | 'upstreamCertPath' | 'upstreamKeyPath';

/** A certificate without its key (or the reverse) can be used for nothing: say which one is missing. */
function refuseHalfAPair(config: GatewayConfig, cert: PathField, key: PathField, purpose: string): void {
  if ((config[cert] === undefined) === (config[key] === undefined)) return;
  const [given, missing] = config[cert] === undefined ? [key, cert] : [cert, key];
  throw new ConfigError(`invalid ${sourceOf(config, given)} ${JSON.stringify(config[given])}: ${sourceOf(config, missing)} is needed with it${purpose}`);
}

/**
 * Balancing flags that mean nothing together. With --config, --balance, --hash-on and --slow-start
 * are defaults each service takes where they apply (the file's own checks name a service left
 * without a key); --sticky-cookie is for the flags' one service, as one cookie cannot keep a
 * client on a backend of each of several services.
 */
function refuseBalancingMismatch(config: GatewayConfig): void {
  const show = (key: keyof GatewayConfig, text: string) => `invalid ${sourceOf(config, key)} ${JSON.stringify(text)}`;
  if (config.configPath !== undefined) {
    if (config.stickyCookie !== undefined) {
      throw new ConfigError(`${show('stickyCookie', config.stickyCookie)}: with ${sourceOf(config, 'configPath')}, give each service that needs it a \`sticky\` of its own`);
    }
    return;
  }
  const balance = sourceOf(config, 'balance');
  if (config.balance === 'consistent-hash' && config.hashOn === undefined) {
    throw new ConfigError(`${show('balance', config.balance)}: ${sourceOf(config, 'hashOn')} is needed with it (header:<name>, cookie:<name>, client-ip or path)`);
  }
  if (config.balance !== 'consistent-hash' && config.hashOn !== undefined) {
    throw new ConfigError(`${show('hashOn', hashOnText(config.hashOn))}: a key for ${balance}=consistent-hash, but ${balance} is ${config.balance}`);
  }
  if (config.balance === 'consistent-hash' && config.slowStartMs > 0) {
    throw new ConfigError(`${show('slowStartMs', formatDuration(config.slowStartMs))}: ${SLOW_START_NOT_WITH_HASHING}`);
  }
}

function hashOnText(hashOn: NonNullable<GatewayConfig['hashOn']>): string {
  return 'name' in hashOn ? `${hashOn.kind}:${hashOn.name}` : hashOn.kind;
}

/** Two listen addresses that cannot both be bound: the same port (not 0) and the same host, or a wildcard host. */
function overlaps(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port !== b.port || a.port === 0) return false;
  return isWildcard(a.host) || isWildcard(b.host) || a.host === b.host;
}

function isWildcard(host: string | undefined): boolean {
  return host === undefined || host === '0.0.0.0' || host === '::';
}

function parseValue(spec: FlagSpec, raw: RawValue): unknown {
  try {
    return spec.parse(raw.text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const shown = spec.secret ? `(${raw.text.length} characters, not shown)` : JSON.stringify(raw.text);
    throw new ConfigError(`invalid ${raw.source} ${shown}: ${reason}`);
  }
}

function readArguments(argv: readonly string[]): Map<string, RawValue> {
  const values = new Map<string, RawValue>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      if (i + 1 < argv.length) throw new ConfigError(`unexpected argument ${JSON.stringify(argv[i + 1])}: the gateway takes only flags (see --help)`);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}: the gateway takes only flags (see --help)`);
    }
    const body = arg.slice(arg.startsWith('--') ? 2 : 1);
    const equals = body.indexOf('=');
    const name = equals === -1 ? body : body.slice(0, equals);
    if (name === 'help' || name === 'h') throw new HelpRequested();
    const spec = FLAGS_BY_NAME.get(name);
    if (!spec || name === '' || name.startsWith('-')) {
      throw new ConfigError(`unknown flag ${JSON.stringify(arg)} (see --help)`);
    }
    const source = `--${name}`;
    if (equals !== -1) {
      values.set(name, { text: body.slice(equals + 1), source });
    } else if (spec.boolean) {
      values.set(name, { text: 'true', source });
    } else if (i + 1 < argv.length) {
      values.set(name, { text: argv[++i], source });
    } else {
      throw new ConfigError(`flag ${source} needs a value (see --help)`);
    }
  }
  return values;
}
