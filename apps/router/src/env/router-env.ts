// The router's process environment (ARCHITECTURE §1), validated once at boot into a frozen
// object. Nothing else in the router reads process.env.
import { accessSync, constants as fsConstants } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';

export const ROUTER_ENV = Symbol('ROUTER_ENV');

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface RouterEnv {
  /** This router's datacenter: the domain that names it on the interlinks. */
  readonly localHost: string;
  /** This process's name within the datacenter; part of its Redis keys. */
  readonly node: string;
  readonly redisUrl: string;
  /** How long boot waits for Redis before giving up (ARCHITECTURE §1: bounded retry). */
  readonly redisBootTimeoutMs: number;
  /** How long boot waits for a first configuration revision in Redis before refusing to start. */
  readonly configBootTimeoutMs: number;
  /**
   * How often the revision and the domain seq are read from Redis, beside the pub/sub notices
   * (which do not cross datacenters): a missed notice heals within this delay.
   */
  readonly configPollIntervalMs: number;
  readonly c2sPort: number;
  readonly componentPort: number;
  /** Health, metrics and the WebSocket endpoint. */
  readonly httpPort: number;
  readonly interlinkListen: HostPort;
  /** What other nodes dial to reach this one. */
  readonly interlinkAdvertise: HostPort;
  readonly tls: {
    readonly certFile?: string;
    readonly keyFile?: string;
    readonly caFile?: string;
  };
  readonly logLevel: LogLevel;
  readonly logPretty: boolean;
}

/** What the defaults and checks need from the machine, passed in so parsing is testable. */
export interface RouterEnvContext {
  readonly hostname: string;
  readonly pid: number;
  readonly isReadableFile: (path: string) => boolean;
}

/** Every problem found in the environment, so an operator fixes them in one go. */
export class RouterEnvError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid environment:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'RouterEnvError';
  }
}

type RawEnv = Readonly<Record<string, string | undefined>>;

const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
// '#', '{' and '}' delimit the session table's Redis keys (`<localHost>#<node>#{domains}`).
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

export function parseRouterEnv(raw: RawEnv, context: RouterEnvContext): RouterEnv {
  const problems: string[] = [];
  // Each reader records its problem and returns undefined, so every variable is checked.
  const read = <T>(name: string, parse: (value: string) => T | string[], fallback?: T) => {
    const value = raw[name]?.trim();
    if (!value) return fallback;
    const parsed = parse(value);
    if (Array.isArray(parsed)) {
      problems.push(...parsed.map((problem) => `${name}: ${problem}`));
      return undefined;
    }
    return parsed;
  };

  const localHost = read('MERIDIAN_LOCAL_HOST', parseDomain);
  if (!raw.MERIDIAN_LOCAL_HOST?.trim()) {
    problems.push('MERIDIAN_LOCAL_HOST: required (the datacenter domain, e.g. dc1.example.com)');
  }
  const node = read('MERIDIAN_NODE', parseNodeName, `${context.hostname}-${context.pid}`);
  const redisUrl = read('REDIS_URL', parseRedisUrl, 'redis://127.0.0.1:6379');
  const redisBootTimeoutMs = read('REDIS_BOOT_TIMEOUT_MS', parsePositiveInteger, 10_000);
  const configBootTimeoutMs = read('CONFIG_BOOT_TIMEOUT_MS', parsePositiveInteger, 30_000);
  const configPollIntervalMs = read('CONFIG_POLL_INTERVAL_MS', parsePollInterval, 1_000);
  const c2sPort = read('C2S_PORT', parsePort, 5222);
  const componentPort = read('COMPONENT_PORT', parsePort, 5347);
  const httpPort = read('HTTP_PORT', parsePort, 5280);
  const interlinkListen = read('INTERLINK_LISTEN', parseHostPort, { host: '0.0.0.0', port: 5555 });
  const interlinkAdvertise = read('INTERLINK_ADVERTISE', parseAdvertised, interlinkListen);
  const readableFile = (path: string) =>
    context.isReadableFile(path) ? path : [`cannot read file ${path}`];
  const certFile = read('TLS_CERT', readableFile);
  const keyFile = read('TLS_KEY', readableFile);
  const caFile = read('TLS_CA', readableFile);
  const logLevel = read('LOG_LEVEL', parseLogLevel, 'info');
  const logPretty = read('LOG_PRETTY', parseFlag, false);

  if (!raw.TLS_CERT?.trim() !== !raw.TLS_KEY?.trim()) {
    problems.push('TLS_CERT and TLS_KEY: set both or neither');
  }
  const ports: [string, number | undefined][] = [
    ['C2S_PORT', c2sPort],
    ['COMPONENT_PORT', componentPort],
    ['HTTP_PORT', httpPort],
    ['INTERLINK_LISTEN', interlinkListen?.port],
  ];
  ports.forEach(([name, port], index) => {
    const clash = ports.slice(0, index).find(([, other]) => port && other === port);
    if (clash) problems.push(`${clash[0]} and ${name}: both use port ${port}`);
  });

  if (problems.length > 0) throw new RouterEnvError(problems);
  return deepFreeze({
    localHost: localHost!,
    node: node!,
    redisUrl: redisUrl!,
    redisBootTimeoutMs: redisBootTimeoutMs!,
    configBootTimeoutMs: configBootTimeoutMs!,
    configPollIntervalMs: configPollIntervalMs!,
    c2sPort: c2sPort!,
    componentPort: componentPort!,
    httpPort: httpPort!,
    interlinkListen: interlinkListen!,
    interlinkAdvertise: interlinkAdvertise!,
    tls: { certFile, keyFile, caFile },
    logLevel: logLevel!,
    logPretty: logPretty!,
  });
}

/** Things that are allowed but probably not what the operator wants; logged at boot. */
export function routerEnvWarnings(env: RouterEnv): string[] {
  const { host, port } = env.interlinkAdvertise;
  if (WILDCARD_HOSTS.has(host) || port === 0) {
    return [
      `INTERLINK_ADVERTISE is ${formatHostPort(env.interlinkAdvertise)} (the listen address), ` +
        'which other nodes cannot dial: set INTERLINK_ADVERTISE to an address they can reach',
    ];
  }
  return [];
}

/** The environment of this process; throws RouterEnvError listing every problem. */
export function loadRouterEnv(raw: RawEnv = process.env): RouterEnv {
  return parseRouterEnv(raw, {
    hostname: hostname(),
    pid: process.pid,
    isReadableFile: (path) => {
      try {
        accessSync(path, fsConstants.R_OK);
        return true;
      } catch {
        return false;
      }
    },
  });
}

export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function parseDomain(value: string): string | string[] {
  return DNS_NAME.test(value) ? value.toLowerCase() : [`"${value}" is not a domain name`];
}

function parseNodeName(value: string): string | string[] {
  return NODE_NAME.test(value)
    ? value
    : [`"${value}" must be 1-128 letters, digits or . _ : @ - (starting with a letter or digit)`];
}

function parseRedisUrl(value: string): string | string[] {
  const expected = 'expected redis://[user:password@]host[:port][/db] or rediss://...';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not echoed: a malformed URL may still carry a password.
    return [`not a valid URL (${expected})`];
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return [`unsupported scheme "${url.protocol}" (${expected})`];
  }
  if (!url.hostname) return [`no host (${expected})`];
  if (!/^\/?(\d+)?$/.test(url.pathname))
    return [`the path must be a database number (${expected})`];
  return value;
}

function parsePort(value: string): number | string[] {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  return port <= 65535 ? port : [`"${value}" is not a port number (0-65535)`];
}

function parsePositiveInteger(value: string): number | string[] {
  const number = /^\d{1,9}$/.test(value) ? Number(value) : 0;
  return number > 0 ? number : [`"${value}" is not a positive whole number`];
}

/** ARCHITECTURE §4: routers poll every 2 s or less, so a lost notice heals that fast. */
export const MAX_CONFIG_POLL_INTERVAL_MS = 2_000;

function parsePollInterval(value: string): number | string[] {
  const number = parsePositiveInteger(value);
  if (Array.isArray(number)) return number;
  return number <= MAX_CONFIG_POLL_INTERVAL_MS
    ? number
    : [
        `${number} is above ${MAX_CONFIG_POLL_INTERVAL_MS} (pub/sub notices do not cross datacenters)`,
      ];
}

function parseHostPort(value: string): HostPort | string[] {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):([^:]+)$/.exec(value);
  if (!match) return [`"${value}" is not host:port (write IPv6 addresses as [addr]:port)`];
  const host = match[1] ?? match[2];
  const validHost = match[1] ? isIP(host) === 6 : isIP(host) === 4 || DNS_NAME.test(host);
  const port = parsePort(match[3]);
  const problems = [
    ...(validHost ? [] : [`"${host}" is not an IP address or host name`]),
    ...(Array.isArray(port) ? port : []),
  ];
  return problems.length > 0 ? problems : { host, port: port as number };
}

function parseAdvertised(value: string): HostPort | string[] {
  const address = parseHostPort(value);
  if (Array.isArray(address)) return address;
  if (WILDCARD_HOSTS.has(address.host)) {
    return [`${address.host} is a wildcard address that other nodes cannot dial`];
  }
  return address.port === 0 ? ['port 0 cannot be dialled'] : address;
}

function parseLogLevel(value: string): LogLevel | string[] {
  const level = LOG_LEVELS.find((candidate) => candidate === value.toLowerCase());
  return level ?? [`"${value}" is not one of ${LOG_LEVELS.join(', ')}`];
}

function parseFlag(value: string): boolean | string[] {
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  return [`"${value}" must be 1 or 0`];
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  }
  return Object.freeze(value);
}
