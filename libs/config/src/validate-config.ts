// Whole-document validation: shape (the classes), the rules that span sections,
// and conversion to the canonical plain document.
import {
  BounceConfig,
  DEFAULT_HOST_TYPE,
  MeridianConfig,
  type AuthConfig,
  type CacheConfig,
  type ComponentConfig,
  type ConnectionsConfig,
  type DatacenterConfig,
  type EndpointConfig,
  type HostTypeConfig,
  type LimitsConfig,
  type RedisPolicyConfig,
} from './config-classes';
import type {
  AuthDocument,
  BounceDocument,
  CacheDocument,
  ComponentDocument,
  ConnectionsDocument,
  DatacenterDocument,
  EndpointDocument,
  HostTypeDocument,
  LimitsDocument,
  MeridianConfigDocument,
  RedisPolicyDocument,
} from './documents';
import { isValidDomainName, normalizeDomain, parentDomains } from './domain-names';
import { indexPath, keyPath, propertyPath } from './field-paths';
import {
  COMPONENT_SECRET_FIELDS,
  JWT_SECRET_FIELDS,
  REDACTED,
  UNRESOLVED_PLACEHOLDER_MESSAGE,
} from './secrets';
import { checkShape, isObjectLike, type ConfigFieldError } from './validation-engine';

export interface ConfigContext {
  /**
   * Dynamic domains known to the caller. Datacenters may not take their names, and
   * component domains may be subdomains of them as well as of globalHost.
   */
  extraServedDomains?: Iterable<string>;
}

export type ConfigValidationResult =
  { ok: true; config: MeridianConfigDocument } | { ok: false; errors: ConfigFieldError[] };

export type BodyValidationResult<T> =
  { ok: true; value: T } | { ok: false; errors: ConfigFieldError[] };

/**
 * Validates a whole configuration document. Applies defaults, rejects unknown
 * fields, checks every option and every rule between options, and reports every
 * problem found. On success returns the canonical document: plain JSON, every
 * default present, keys in a fixed order, domains normalised, and datacenters,
 * host types and components sorted by their names.
 */
export function validateConfig(
  input: unknown,
  context: ConfigContext = {},
): ConfigValidationResult {
  const { instance, errors } = checkShape(MeridianConfig, input);
  if (!instance) return { ok: false, errors };
  errors.push(...crossFieldErrors(instance, servedDomainsOf(context)));
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, config: toDocument(instance) };
}

/**
 * Validates a REST body against one of the option classes, with the same
 * semantics as validateConfig: defaults applied, unknown fields rejected, every
 * problem reported, paths relative to the body.
 */
export function validateBody<T>(cls: new () => T, input: unknown): BodyValidationResult<T> {
  const { instance, errors } = checkShape(cls as new () => T & object, input);
  if (!instance || errors.length > 0) return { ok: false, errors };
  return { ok: true, value: instance };
}

/** The configuration with every default and the given global host. Throws if it is not a valid domain. */
export function defaultConfig(globalHost: string): MeridianConfigDocument {
  const instance = new MeridianConfig();
  instance.globalHost = normalizeDomain(globalHost);
  if (!isValidDomainName(instance.globalHost)) {
    throw new TypeError(`defaultConfig: ${JSON.stringify(globalHost)} is not a valid domain name`);
  }
  return toDocument(instance);
}

function servedDomainsOf(context: ConfigContext): Set<string> {
  const served = new Set<string>();
  for (const domain of context.extraServedDomains ?? []) {
    if (typeof domain === 'string') served.add(normalizeDomain(domain));
  }
  return served;
}

// ---------------------------------------------------------------------------------
// rules between options. The shape may be invalid here, so every value is
// type-checked before use and rules whose inputs are broken are skipped (their
// inputs have been reported already).

function validDomain(value: unknown): string | undefined {
  return typeof value === 'string' && isValidDomainName(value) ? value : undefined;
}

function crossFieldErrors(config: MeridianConfig, served: Set<string>): ConfigFieldError[] {
  const errors: ConfigFieldError[] = [];
  const globalHost = validDomain(config.globalHost);
  const datacenters = datacenterRules(config, globalHost, served, errors);
  endpointOverrideRules(config, datacenters, errors);
  hostTypeRules(config, errors);
  componentRules(config, globalHost, served, datacenters, errors);
  placeholderRules(config, errors);
  return errors;
}

function elementsOf(list: unknown): [number, Record<string, unknown>][] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: unknown, index: number) =>
    isObjectLike(item) ? [[index, item] as [number, Record<string, unknown>]] : [],
  );
}

function datacenterRules(
  config: MeridianConfig,
  globalHost: string | undefined,
  served: Set<string>,
  errors: ConfigFieldError[],
): Set<string> {
  const firstIndex = new Map<string, number>();
  for (const [index, datacenter] of elementsOf(config.datacenters)) {
    const localHost = validDomain(datacenter.localHost);
    if (localHost === undefined) continue;
    const path = propertyPath(indexPath('datacenters', index), 'localHost');
    const earlier = firstIndex.get(localHost);
    if (earlier !== undefined)
      errors.push({ path, message: `duplicates datacenters[${earlier}].localHost` });
    else firstIndex.set(localHost, index);
    if (localHost === globalHost) errors.push({ path, message: 'must differ from globalHost' });
    else if (served.has(localHost))
      errors.push({ path, message: 'must differ from the served (dynamic) domains' });
  }
  return new Set(firstIndex.keys());
}

function endpointOverrideRules(
  config: MeridianConfig,
  datacenters: Set<string>,
  errors: ConfigFieldError[],
): void {
  if (!isObjectLike(config.endpointOverrides)) return;
  for (const key of Object.keys(config.endpointOverrides)) {
    const localHost = validDomain(normalizeDomain(key));
    if (localHost !== undefined && !datacenters.has(localHost)) {
      errors.push({
        path: keyPath('endpointOverrides', key),
        message: 'is not the localHost of a datacenter in this configuration',
      });
    }
  }
}

function hostTypeRules(config: MeridianConfig, errors: ConfigFieldError[]): void {
  if (!Array.isArray(config.hostTypes)) return;
  const firstIndex = new Map<string, number>();
  for (const [index, hostType] of elementsOf(config.hostTypes)) {
    if (typeof hostType.name !== 'string') continue;
    const earlier = firstIndex.get(hostType.name);
    if (earlier !== undefined) {
      errors.push({
        path: propertyPath(indexPath('hostTypes', index), 'name'),
        message: `duplicates hostTypes[${earlier}].name`,
      });
    } else {
      firstIndex.set(hostType.name, index);
    }
  }
  // globalHost and domains created without a host type follow this one.
  if (!firstIndex.has(DEFAULT_HOST_TYPE)) {
    errors.push({
      path: 'hostTypes',
      message: `must include a host type named ${JSON.stringify(DEFAULT_HOST_TYPE)}`,
    });
  }
}

function componentRules(
  config: MeridianConfig,
  globalHost: string | undefined,
  served: Set<string>,
  datacenters: Set<string>,
  errors: ConfigFieldError[],
): void {
  const firstIndex = new Map<string, number>();
  for (const [index, component] of elementsOf(config.components)) {
    const domain = validDomain(component.domain);
    if (domain === undefined) continue;
    const path = propertyPath(indexPath('components', index), 'domain');
    const earlier = firstIndex.get(domain);
    if (earlier !== undefined)
      errors.push({ path, message: `duplicates components[${earlier}].domain` });
    else firstIndex.set(domain, index);

    if (datacenters.has(domain)) {
      errors.push({ path, message: 'must differ from every datacenter localHost' });
    } else if (domain === globalHost || served.has(domain)) {
      errors.push({ path, message: 'must not be a served domain itself; use a subdomain of one' });
    } else if (
      globalHost !== undefined &&
      !parentDomains(domain).some((parent) => parent === globalHost || served.has(parent))
    ) {
      errors.push({ path, message: 'must be a subdomain of globalHost or of a served domain' });
    }
  }
}

function placeholderRules(config: MeridianConfig, errors: ConfigFieldError[]): void {
  if (isObjectLike(config.auth) && isObjectLike(config.auth.jwt)) {
    for (const field of JWT_SECRET_FIELDS) {
      if (config.auth.jwt[field] === REDACTED)
        errors.push({ path: `auth.jwt.${field}`, message: UNRESOLVED_PLACEHOLDER_MESSAGE });
    }
  }
  for (const [index, component] of elementsOf(config.components)) {
    for (const field of COMPONENT_SECRET_FIELDS) {
      if (component[field] === REDACTED) {
        errors.push({
          path: propertyPath(indexPath('components', index), field),
          message: UNRESOLVED_PLACEHOLDER_MESSAGE,
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------
// the canonical document. Built field by field (not with instanceToPlain) so that
// key order is fixed and nothing but options can end up in a revision.

function byName<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

function isSet<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

export function toDocument(c: MeridianConfig): MeridianConfigDocument {
  return {
    globalHost: c.globalHost,
    datacenters: c.datacenters.map(datacenterDocument).sort(byName((d) => d.localHost)),
    messageTtl: c.messageTtl,
    connections: connectionsDocument(c.connections),
    cache: cacheDocument(c.cache),
    bounce: bounceDocument(c.bounce),
    redis: redisDocument(c.redis),
    endpointOverrides: endpointOverridesDocument(c.endpointOverrides),
    hostTypes: c.hostTypes.map(hostTypeDocument).sort(byName((h) => h.name)),
    components: c.components.map(componentDocument).sort(byName((k) => k.domain)),
    auth: authDocument(c.auth),
    limits: limitsDocument(c.limits),
  };
}

function datacenterDocument(d: DatacenterConfig): DatacenterDocument {
  return {
    localHost: d.localHost,
    ...(isSet(d.region) ? { region: d.region } : {}),
    ...(isSet(d.labels)
      ? { labels: Object.fromEntries(Object.entries(d.labels).sort(byName(([name]) => name))) }
      : {}),
  };
}

function connectionsDocument(c: ConnectionsConfig): ConnectionsDocument {
  return {
    connectionsPerEndpoint: c.connectionsPerEndpoint,
    endpointRefreshIntervalS: c.endpointRefreshIntervalS,
    endpointRefreshIntervalCleanStartS: c.endpointRefreshIntervalCleanStartS,
    disabledGcIntervalS: c.disabledGcIntervalS,
    tls: { enabled: c.tls.enabled },
  };
}

function cacheDocument(c: CacheConfig): CacheDocument {
  return {
    cacheMissed: c.cacheMissed,
    domainLifetimeS: c.domainLifetimeS,
    jidLifetimeS: c.jidLifetimeS,
    maxJids: c.maxJids,
  };
}

function bounceDocument(b: BounceConfig): BounceDocument {
  return {
    enabled: b.enabled,
    resendAfterMs: b.resendAfterMs,
    maxRetries: b.maxRetries,
    maxQueued: b.maxQueued,
  };
}

function redisDocument(r: RedisPolicyConfig): RedisPolicyDocument {
  return { expireAfterS: r.expireAfterS, refreshAfterS: r.refreshAfterS };
}

function endpointDocument(e: EndpointConfig): EndpointDocument {
  return { host: e.host, port: e.port };
}

function endpointOverridesDocument(
  overrides: Record<string, EndpointConfig[]>,
): Record<string, EndpointDocument[]> {
  return Object.fromEntries(
    Object.entries(overrides)
      .map(([key, list]): [string, EndpointDocument[]] => [
        normalizeDomain(key),
        list.map(endpointDocument),
      ])
      .sort(byName(([key]) => key)),
  );
}

function hostTypeDocument(h: HostTypeConfig): HostTypeDocument {
  return {
    name: h.name,
    ...(isSet(h.bounce) ? { bounce: bounceDocument(h.bounce) } : {}),
    ...(isSet(h.messageTtl) ? { messageTtl: h.messageTtl } : {}),
    isolated: h.isolated,
  };
}

function componentDocument(k: ComponentConfig): ComponentDocument {
  return {
    domain: k.domain,
    secret: k.secret,
    ...(isSet(k.previousSecret) ? { previousSecret: k.previousSecret } : {}),
    hidden: k.hidden,
    ...(isSet(k.balancing) ? { balancing: k.balancing } : {}),
  };
}

function authDocument(a: AuthConfig): AuthDocument {
  return {
    jwt: {
      algorithm: a.jwt.algorithm,
      ...(isSet(a.jwt.secret) ? { secret: a.jwt.secret } : {}),
      ...(isSet(a.jwt.previousSecret) ? { previousSecret: a.jwt.previousSecret } : {}),
      ...(isSet(a.jwt.publicKey) ? { publicKey: a.jwt.publicKey } : {}),
      ...(isSet(a.jwt.previousPublicKey) ? { previousPublicKey: a.jwt.previousPublicKey } : {}),
      usernameClaim: a.jwt.usernameClaim,
      requireExp: a.jwt.requireExp,
    },
    allowPlaintext: a.allowPlaintext,
  };
}

function limitsDocument(l: LimitsConfig): LimitsDocument {
  return {
    maxStanzaBytes: l.maxStanzaBytes,
    preAuthStanzaBytes: l.preAuthStanzaBytes,
    maxDepth: l.maxDepth,
    maxAttributes: l.maxAttributes,
    maxAttributeBytes: l.maxAttributeBytes,
    authTimeoutS: l.authTimeoutS,
    maxConnectionsPerIp: l.maxConnectionsPerIp,
    stanzasPerSecond: l.stanzasPerSecond,
    stanzaBurst: l.stanzaBurst,
  };
}
