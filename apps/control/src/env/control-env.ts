// The control plane's environment, parsed once at boot into a frozen, typed object.
// Nothing else in the control plane reads process.env (nor the TLS files it names).
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

export interface AdminToken {
  readonly name: string;
  readonly token: string;
  readonly readOnly: boolean;
}

/** Control's own certificate, read at boot (a new one takes a restart). */
export interface ControlTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM: the certificate, then any intermediates. */
  readonly cert: string;
  readonly key: string;
  /** When the certificate (the first of `cert`) expires, for the boot log. */
  readonly validTo: string;
}

export interface ControlEnv {
  readonly databaseUrl: string;
  /** How long a request waits for a PostgreSQL connection (a free one, or a new one) before 503. */
  readonly databasePoolWaitMs: number;
  /** Primary Redis: status keys and topology are read here; revisions are pushed here. */
  readonly redisUrl: string;
  /** Extra Redis targets, one per datacenter, that every push is also written to. */
  readonly redisUrls: ReadonlyMap<string, string>;
  readonly port: number;
  /** The address to listen on; undefined: every interface. */
  readonly host: string | undefined;
  /** HTTPS on `port` when set; plain HTTP otherwise. */
  readonly tls: ControlTls | null;
  readonly adminTokens: readonly AdminToken[];
  /** Failed bearer tokens from one address, per window, that lock it out until the window ends. */
  readonly authFailureLimit: number;
  readonly authFailureWindowS: number;
  readonly migrateOnStart: boolean;
  readonly maxBodyBytes: number;
  readonly outboxIntervalMs: number;
  readonly routerStaleAfterS: number;
  readonly logLevel: string;
  readonly logPretty: boolean;
}

export class EnvError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid environment:\n  - ${problems.join('\n  - ')}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const MIN_TOKEN_LENGTH = 16;

export function parseControlEnv(env: Env): ControlEnv {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  };
  const url = (name: string, fallback: string, protocols: string[]): string => {
    const raw = env[name] || fallback;
    if (!isUrl(raw, protocols)) problems.push(`${name} must be a ${protocols.join('/')} URL`);
    return raw;
  };

  const parsed: ControlEnv = {
    databaseUrl: url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/meridian', [
      'postgres:',
      'postgresql:',
    ]),
    databasePoolWaitMs: int('DATABASE_POOL_WAIT_MS', 10_000, 100, 120_000),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    redisUrls: parseRedisUrls(env.REDIS_URLS, problems),
    port: int('PORT', 8080, 0, 65535),
    host: parseHost(env.CONTROL_HOST, problems),
    tls: parseTls(env.CONTROL_TLS_CERT, env.CONTROL_TLS_KEY, problems),
    adminTokens: parseAdminTokens(env.MERIDIAN_ADMIN_TOKENS, problems),
    authFailureLimit: int('AUTH_FAILURE_LIMIT', 20, 1, 1_000_000),
    authFailureWindowS: int('AUTH_FAILURE_WINDOW_S', 60, 1, 86_400),
    migrateOnStart: bool('MERIDIAN_MIGRATE', true),
    maxBodyBytes: int('MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    outboxIntervalMs: int('OUTBOX_INTERVAL_MS', 2000, 50, 600_000),
    routerStaleAfterS: int('ROUTER_STALE_AFTER_S', 15, 1, 3600),
    logLevel: env.LOG_LEVEL || 'info',
    logPretty: bool('LOG_PRETTY', false),
  };
  if (problems.length > 0) throw new EnvError(problems);
  return Object.freeze(parsed);
}

function isUrl(raw: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(raw).protocol);
  } catch {
    return false;
  }
}

function parseHost(raw: string | undefined, problems: string[]): string | undefined {
  const host = raw?.trim();
  if (!host) return undefined;
  if (isIP(host) === 0) problems.push(`CONTROL_HOST must be an IP address, got "${host}"`);
  return host;
}

/** Both files or neither; each must hold what its variable says, and the key must fit the certificate. */
function parseTls(
  rawCert: string | undefined,
  rawKey: string | undefined,
  problems: string[],
): ControlTls | null {
  const certFile = rawCert?.trim();
  const keyFile = rawKey?.trim();
  if (!certFile && !keyFile) return null;
  if (!certFile || !keyFile) {
    const [set, unset] = certFile
      ? ['CONTROL_TLS_CERT', 'CONTROL_TLS_KEY']
      : ['CONTROL_TLS_KEY', 'CONTROL_TLS_CERT'];
    problems.push(
      `${set} is set but ${unset} is not: HTTPS needs both (or neither, for plain HTTP)`,
    );
    return null;
  }
  const cert = readPem('CONTROL_TLS_CERT', certFile, 'a PEM certificate', problems, (pem) => {
    return new X509Certificate(pem);
  });
  // An encrypted key would need a passphrase at every boot; control takes none.
  const key = readPem(
    'CONTROL_TLS_KEY',
    keyFile,
    'an unencrypted PEM private key',
    problems,
    createPrivateKey,
  );
  if (!cert || !key) return null;
  if (!cert.parsed.checkPrivateKey(key.parsed)) {
    problems.push(
      `CONTROL_TLS_KEY (${keyFile}) is not the private key of the certificate in CONTROL_TLS_CERT (${certFile})`,
    );
    return null;
  }
  return { certFile, keyFile, cert: cert.pem, key: key.pem, validTo: cert.parsed.validTo };
}

function readPem<T extends X509Certificate | KeyObject>(
  name: string,
  file: string,
  what: string,
  problems: string[],
  parse: (pem: string) => T,
): { pem: string; parsed: T } | null {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push(`${name}: cannot read ${file} (${reason})`);
    return null;
  }
  try {
    return { pem, parsed: parse(pem) };
  } catch {
    problems.push(`${name}: ${file} does not hold ${what}`);
    return null;
  }
}

/** `name:token` or `name:token:ro`, comma separated. */
export function parseAdminTokens(raw: string | undefined, problems: string[]): AdminToken[] {
  if (!raw) return [];
  const tokens: AdminToken[] = [];
  const names = new Set<string>();
  raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .forEach((entry, index) => {
      const parts = entry.split(':');
      const [name, token, mode] = parts;
      const where = `MERIDIAN_ADMIN_TOKENS entry ${index + 1}`;
      if (parts.length < 2 || parts.length > 3 || !name || !token) {
        problems.push(`${where} must be name:token or name:token:ro`);
        return;
      }
      if (mode !== undefined && mode !== 'ro' && mode !== 'rw') {
        problems.push(`${where} (${name}): mode must be "ro" or "rw", got "${mode}"`);
        return;
      }
      if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) {
        problems.push(`${where}: name "${name}" may only use letters, digits and _.@-`);
        return;
      }
      if (token.length < MIN_TOKEN_LENGTH) {
        problems.push(`${where} (${name}): token must be at least ${MIN_TOKEN_LENGTH} characters`);
        return;
      }
      if (names.has(name)) {
        problems.push(`${where}: duplicate token name "${name}"`);
        return;
      }
      names.add(name);
      tokens.push({ name, token, readOnly: mode === 'ro' });
    });
  return tokens;
}

/** `dc1.example.com=redis://...,dc2.example.com=redis://...` */
function parseRedisUrls(raw: string | undefined, problems: string[]): Map<string, string> {
  const urls = new Map<string, string>();
  if (!raw) return urls;
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const at = entry.indexOf('=');
    const name = entry.slice(0, at);
    const value = entry.slice(at + 1);
    if (at <= 0 || !isUrl(value, ['redis:', 'rediss:'])) {
      problems.push(`REDIS_URLS entry "${entry}" must be <localHost>=redis://...`);
      continue;
    }
    urls.set(name, value);
  }
  return urls;
}
