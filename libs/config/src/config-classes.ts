// Every configuration option: its type, default (MongooseIM's), range and
// validation, defined once. Control validates REST bodies and whole documents with
// these classes; routers validate each snapshot with them before applying it.
import 'reflect-metadata';
import { isIP } from 'node:net';
import { Transform } from 'class-transformer';
import { IsOptional, type ValidationArguments } from 'class-validator';
import {
  Bool,
  DomainName,
  hasIntegerInRange,
  IntRange,
  lengthProblem,
  Matches,
  NestedArray,
  NestedObject,
  NormalisedString,
  OneOf,
  RecordOption,
  Rule,
  Text,
  textProblem,
  toInstance,
} from './decorators';
import { COMPONENT_BALANCING, type ComponentBalancing } from './documents';
import { isValidDomainName, normalizeDomain } from './domain-names';
import { indexPath, joinPath, keyPath } from './field-paths';
import {
  JWT_ALGORITHMS,
  MIN_HS256_SECRET_LENGTH,
  publicKeyProblem,
  type JwtAlgorithm,
} from './jwt-keys';
import { REDACTED } from './secrets';
import { checkShape, isObjectLike, type ConfigFieldError } from './validation-engine';

/** Bounds on list sizes, so that no document can make a router allocate without limit. */
export const MAX_DATACENTERS = 256;
export const MAX_ENDPOINTS_PER_DATACENTER = 64;
export const MAX_HOST_TYPES = 1024;
export const MAX_COMPONENTS = 4096;
export const MAX_LABELS = 64;
export const MIN_COMPONENT_SECRET_LENGTH = 8;

const MAX_SECRET_LENGTH = 4096;
const MAX_PUBLIC_KEY_LENGTH = 16384;

function secretProblem(value: unknown, minLength: number): string | null {
  if (value === undefined) return 'is required';
  if (typeof value !== 'string') return 'must be a string';
  // Stands for the stored secret; validateConfig reports it if there is none.
  if (value === REDACTED) return null;
  if (value.length < minLength) return `must be at least ${minLength} characters long`;
  if (value.length > MAX_SECRET_LENGTH)
    return `must be at most ${MAX_SECRET_LENGTH} characters long`;
  return null;
}

// ---------------------------------------------------------------------------------
// connections

export class LinkTlsConfig {
  /** Mutual TLS on links between nodes; false only for loopback tests. */
  @Bool() enabled = true;
}

export class ConnectionsConfig {
  @IntRange(1, 1000) connectionsPerEndpoint = 1;
  @IntRange(1, 86400) endpointRefreshIntervalS = 60;
  /** Used instead of endpointRefreshIntervalS while no remote endpoint is known. */
  @IntRange(1, 3600) endpointRefreshIntervalCleanStartS = 3;
  @IntRange(1, 86400) disabledGcIntervalS = 60;
  @NestedObject(() => LinkTlsConfig) tls: LinkTlsConfig = new LinkTlsConfig();
}

// ---------------------------------------------------------------------------------
// cache, bounce, redis

export class CacheConfig {
  @Bool() cacheMissed = true;
  @IntRange(0, 86400) domainLifetimeS = 600;
  @IntRange(0, 86400) jidLifetimeS = 5;
  @IntRange(1, 10_000_000) maxJids = 10000;
}

export class BounceConfig {
  @Bool() enabled = true;
  @IntRange(10, 60000) resendAfterMs = 200;
  @IntRange(0, 20) maxRetries = 4;
  @IntRange(1, 1_000_000) maxQueued = 10000;
}

export class RedisPolicyConfig {
  @IntRange(5, 86400) expireAfterS = 120;

  @IntRange(1, 86400)
  @Rule('lessThanExpireAfterS', (value, args) => {
    const redis = args.object as RedisPolicyConfig;
    if (!hasIntegerInRange(redis, 'refreshAfterS') || !hasIntegerInRange(redis, 'expireAfterS'))
      return null;
    // An entry refreshed no sooner than it expires disappears between refreshes.
    return redis.refreshAfterS >= redis.expireAfterS
      ? `must be less than expireAfterS (${redis.expireAfterS})`
      : null;
  })
  refreshAfterS = 60;
}

// ---------------------------------------------------------------------------------
// endpoints and datacenters

export class EndpointConfig {
  @NormalisedString()
  @Rule('isHost', (value) => {
    if (value === undefined) return 'is required';
    if (typeof value !== 'string') return 'must be a string';
    return isIP(value) !== 0 || isValidDomainName(value)
      ? null
      : 'must be a host name or an IP address';
  })
  host!: string;

  @IntRange(1, 65535) port!: number;
}

export class EndpointListBody {
  @NestedArray(() => EndpointConfig, { min: 1, max: MAX_ENDPOINTS_PER_DATACENTER })
  endpoints!: EndpointConfig[];
}

const LABEL_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
const MAX_LABEL_VALUE_LENGTH = 256;

function copyRecord(raw: unknown): unknown {
  return isObjectLike(raw) ? Object.fromEntries(Object.entries(raw)) : raw;
}

function checkLabels(value: unknown): ConfigFieldError[] {
  if (!isObjectLike(value))
    return [{ path: '', message: 'must be an object of label names to strings' }];
  const entries = Object.entries(value);
  const errors: ConfigFieldError[] = [];
  if (entries.length > MAX_LABELS)
    errors.push({ path: '', message: `must have at most ${MAX_LABELS} labels` });
  for (const [name, labelValue] of entries) {
    const path = keyPath('', name);
    if (!LABEL_NAME.test(name)) {
      errors.push({
        path,
        message:
          'label names are 1 to 63 letters, digits, ".", "_", "-" or "/", starting and ending with a letter or digit',
      });
    }
    const problem = textProblem(labelValue, 0, MAX_LABEL_VALUE_LENGTH);
    if (problem) errors.push({ path, message: problem });
  }
  return errors;
}

/** The body of PUT /v1/datacenters/:localHost. */
export class DatacenterBody {
  @IsOptional() @Text(1, 64) region?: string;

  @IsOptional() @RecordOption('labels', copyRecord, checkLabels) labels?: Record<string, string>;
}

export class DatacenterConfig extends DatacenterBody {
  @DomainName() localHost!: string;
}

function copyEndpointOverrides(raw: unknown): unknown {
  if (!isObjectLike(raw)) return raw;
  return Object.fromEntries(
    Object.entries(raw).map(([key, list]) => [
      key,
      Array.isArray(list)
        ? list.map((item: unknown) =>
            Array.isArray(item) ? item : toInstance(EndpointConfig, item),
          )
        : list,
    ]),
  );
}

function checkEndpointOverrides(value: unknown): ConfigFieldError[] {
  if (!isObjectLike(value))
    return [{ path: '', message: 'must be an object of datacenter localHosts to endpoint lists' }];
  const entries = Object.entries(value);
  const errors: ConfigFieldError[] = [];
  if (entries.length > MAX_DATACENTERS)
    errors.push({ path: '', message: `must have at most ${MAX_DATACENTERS} entries` });
  const seen = new Map<string, string>();
  for (const [key, list] of entries) {
    const path = keyPath('', key);
    const domain = normalizeDomain(key);
    if (!isValidDomainName(domain)) {
      errors.push({ path, message: 'must be a valid domain name (the localHost of a datacenter)' });
    } else if (seen.has(domain)) {
      errors.push({
        path,
        message: `is the same datacenter as ${JSON.stringify(seen.get(domain))} (domains ignore case)`,
      });
    } else {
      seen.set(domain, key);
    }
    if (!Array.isArray(list)) {
      errors.push({ path, message: 'must be an array of endpoints' });
      continue;
    }
    const sizeProblem = lengthProblem(list.length, { min: 1, max: MAX_ENDPOINTS_PER_DATACENTER });
    if (sizeProblem) errors.push({ path, message: sizeProblem });
    list.forEach((item: unknown, index: number) => {
      const itemPath = indexPath(path, index);
      if (!isObjectLike(item)) {
        errors.push({ path: itemPath, message: 'must be an object' });
        return;
      }
      for (const e of checkShape(EndpointConfig, item).errors)
        errors.push({ path: joinPath(itemPath, e.path), message: e.message });
    });
  }
  return errors;
}

// ---------------------------------------------------------------------------------
// host types and components

/** The body of PUT /v1/host-types/:name. */
export class HostTypeBody {
  /** A whole bounce policy for this host type; fields left out take the bounce defaults. */
  @IsOptional() @NestedObject(() => BounceConfig) bounce?: BounceConfig;

  @IsOptional() @IntRange(0, 64) messageTtl?: number;

  /** No stanzas between domains of this host type and other domains. */
  @Bool() isolated = false;
}

export const HOST_TYPE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9])?$/;

export class HostTypeConfig extends HostTypeBody {
  @Matches(
    'isHostTypeName',
    HOST_TYPE_NAME,
    'must be 1 to 64 letters, digits, spaces, ".", "_" or "-", starting and ending with a letter or digit',
  )
  name!: string;
}

/**
 * The problem of an optional previous key `value` beside the current key `current`: set only
 * with a current key, and not equal to it (the same key twice is a rotation half done).
 */
function previousKeyProblem(value: unknown, current: unknown, currentName: string): string | null {
  if (isAbsent(current)) return `must not be set without ${currentName}`;
  if (typeof value === 'string' && value !== REDACTED && value === current)
    return `must differ from ${currentName}`;
  return null;
}

/** The body of PUT /v1/components/:domain. */
export class ComponentBody {
  @Rule('isComponentSecret', (value) => secretProblem(value, MIN_COMPONENT_SECRET_LENGTH))
  secret!: string;

  /**
   * The secret before a rotation, still accepted in handshakes while it is set; streams that
   * proved it stay connected.
   */
  @IsOptional()
  @Rule('isPreviousComponentSecret', (value, args) => {
    const problem = secretProblem(value, MIN_COMPONENT_SECRET_LENGTH);
    if (problem) return problem;
    return previousKeyProblem(value, (args.object as ComponentBody).secret, 'secret');
  })
  previousSecret?: string;

  /** Left out of disco#items. */
  @Bool() hidden = false;

  /** Without it, one instance per domain; with it, several share the traffic. */
  @IsOptional() @OneOf(COMPONENT_BALANCING) balancing?: ComponentBalancing;
}

export class ComponentConfig extends ComponentBody {
  @DomainName() domain!: string;
}

// ---------------------------------------------------------------------------------
// auth

function algorithmOf(args: ValidationArguments): unknown {
  return (args.object as JwtConfig).algorithm;
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

// OpenSSL ignores a BEGIN line that does not start the line, and stray indentation
// from YAML or a heredoc is common: a public key is stored trimmed, ending in one newline.
function trimmedPem({ value }: { value: unknown }): unknown {
  return typeof value === 'string' ? `${value.trim()}\n` : value;
}

/** A set public key option, checked against the algorithm (reported on its own when unknown). */
function publicKeyOptionProblem(value: unknown, algorithm: unknown): string | null {
  if (algorithm !== 'RS256' && algorithm !== 'ES256')
    return isAbsent(value) || typeof value === 'string' ? null : 'must be a string';
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > MAX_PUBLIC_KEY_LENGTH)
    return `must be at most ${MAX_PUBLIC_KEY_LENGTH} characters long`;
  return publicKeyProblem(value, algorithm);
}

export class JwtConfig {
  @OneOf(JWT_ALGORITHMS) algorithm: JwtAlgorithm = 'HS256';

  /** HS256 only. Absent means every login fails until one is set. */
  @Rule('jwtSecret', (value, args) => {
    if (isAbsent(value)) return null;
    const algorithm = algorithmOf(args);
    if (algorithm === 'RS256' || algorithm === 'ES256')
      return `must not be set when algorithm is ${algorithm} (it verifies with publicKey)`;
    return secretProblem(value, MIN_HS256_SECRET_LENGTH);
  })
  secret?: string;

  /** HS256 only: the key before a rotation, still accepted while it is set. */
  @Rule('jwtPreviousSecret', (value, args) => {
    if (isAbsent(value)) return null;
    const algorithm = algorithmOf(args);
    if (algorithm === 'RS256' || algorithm === 'ES256')
      return `must not be set when algorithm is ${algorithm} (the previous key is previousPublicKey)`;
    const problem = secretProblem(value, MIN_HS256_SECRET_LENGTH);
    if (problem) return problem;
    return previousKeyProblem(value, (args.object as JwtConfig).secret, 'secret');
  })
  previousSecret?: string;

  /** RS256/ES256 only: the SPKI PEM public key that verifies tokens. */
  @Transform(trimmedPem, { toClassOnly: true })
  @Rule('jwtPublicKey', (value, args) => {
    const algorithm = algorithmOf(args);
    if (algorithm === 'HS256')
      return isAbsent(value)
        ? null
        : 'must not be set when algorithm is HS256 (it verifies with secret)';
    if (isAbsent(value) && (algorithm === 'RS256' || algorithm === 'ES256'))
      return `is required when algorithm is ${algorithm}`;
    return publicKeyOptionProblem(value, algorithm);
  })
  publicKey?: string;

  /** RS256/ES256 only: the public key before a rotation, still accepted while it is set. */
  @Transform(trimmedPem, { toClassOnly: true })
  @Rule('jwtPreviousPublicKey', (value, args) => {
    if (isAbsent(value)) return null;
    const algorithm = algorithmOf(args);
    if (algorithm === 'HS256')
      return 'must not be set when algorithm is HS256 (the previous key is previousSecret)';
    const problem = publicKeyOptionProblem(value, algorithm);
    if (problem) return problem;
    return previousKeyProblem(value, (args.object as JwtConfig).publicKey, 'publicKey');
  })
  previousPublicKey?: string;

  /** The claim that must equal the localpart of the JID logging in. */
  @Text(1, 64) usernameClaim = 'sub';

  @Bool() requireExp = true;
}

export class AuthConfig {
  @NestedObject(() => JwtConfig) jwt: JwtConfig = new JwtConfig();

  /** Offer SASL PLAIN before TLS to loopback clients (never to others); for benchmarks. */
  @Bool() allowPlaintext = false;
}

// ---------------------------------------------------------------------------------
// limits

export class LimitsConfig {
  @IntRange(1024, 16_777_216) maxStanzaBytes = 65536;

  @IntRange(512, 1_048_576)
  @Rule('notAboveMaxStanzaBytes', (value, args) => {
    const limits = args.object as LimitsConfig;
    if (
      !hasIntegerInRange(limits, 'preAuthStanzaBytes') ||
      !hasIntegerInRange(limits, 'maxStanzaBytes')
    )
      return null;
    return limits.preAuthStanzaBytes > limits.maxStanzaBytes
      ? `must not be greater than maxStanzaBytes (${limits.maxStanzaBytes})`
      : null;
  })
  preAuthStanzaBytes = 8192;

  @IntRange(4, 256) maxDepth = 32;
  @IntRange(8, 1024) maxAttributes = 64;
  @IntRange(256, 1_048_576) maxAttributeBytes = 4096;
  @IntRange(1, 600) authTimeoutS = 30;
  @IntRange(1, 1_000_000) maxConnectionsPerIp = 1000;
  @IntRange(1, 1_000_000) stanzasPerSecond = 1000;
  @IntRange(1, 10_000_000) stanzaBurst = 2000;
}

// ---------------------------------------------------------------------------------
// the document

/** The body of PUT /v1/settings: replaces the section; sub-objects left out take defaults. */
export class SettingsConfig {
  @DomainName() globalHost!: string;
  @IntRange(0, 64) messageTtl = 4;
  @NestedObject(() => ConnectionsConfig) connections: ConnectionsConfig = new ConnectionsConfig();
  @NestedObject(() => CacheConfig) cache: CacheConfig = new CacheConfig();
  @NestedObject(() => RedisPolicyConfig) redis: RedisPolicyConfig = new RedisPolicyConfig();
  @NestedObject(() => AuthConfig) auth: AuthConfig = new AuthConfig();
  @NestedObject(() => LimitsConfig) limits: LimitsConfig = new LimitsConfig();
}

export const DEFAULT_HOST_TYPE = 'default';

function defaultHostTypes(): HostTypeConfig[] {
  const hostType = new HostTypeConfig();
  hostType.name = DEFAULT_HOST_TYPE;
  return [hostType];
}

export class MeridianConfig extends SettingsConfig {
  @NestedArray(() => DatacenterConfig, { min: 0, max: MAX_DATACENTERS })
  datacenters: DatacenterConfig[] = [];

  @NestedObject(() => BounceConfig) bounce: BounceConfig = new BounceConfig();

  /** What other datacenters dial to reach a datacenter, instead of its published endpoints. */
  @RecordOption('endpointOverrides', copyEndpointOverrides, checkEndpointOverrides)
  endpointOverrides: Record<string, EndpointConfig[]> = {};

  @NestedArray(() => HostTypeConfig, { min: 0, max: MAX_HOST_TYPES })
  hostTypes: HostTypeConfig[] = defaultHostTypes();

  @NestedArray(() => ComponentConfig, { min: 0, max: MAX_COMPONENTS })
  components: ComponentConfig[] = [];
}
