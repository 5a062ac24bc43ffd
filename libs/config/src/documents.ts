// The configuration as plain data: what validateConfig returns, what revisions
// store and what routers apply. Every option with a default is present; optional
// options without one are absent when not set.
import type { JwtAlgorithm } from './jwt-keys';

export type { JwtAlgorithm };

export const COMPONENT_BALANCING = ['random', 'bareSource'] as const;
export type ComponentBalancing = (typeof COMPONENT_BALANCING)[number];

export interface DatacenterDocument {
  localHost: string;
  region?: string;
  labels?: Record<string, string>;
}

export interface LinkTlsDocument {
  enabled: boolean;
}

export interface ConnectionsDocument {
  connectionsPerEndpoint: number;
  endpointRefreshIntervalS: number;
  endpointRefreshIntervalCleanStartS: number;
  disabledGcIntervalS: number;
  tls: LinkTlsDocument;
}

export interface CacheDocument {
  cacheMissed: boolean;
  domainLifetimeS: number;
  jidLifetimeS: number;
  maxJids: number;
}

export interface BounceDocument {
  enabled: boolean;
  resendAfterMs: number;
  maxRetries: number;
  maxQueued: number;
}

export interface RedisPolicyDocument {
  expireAfterS: number;
  refreshAfterS: number;
}

export interface EndpointDocument {
  host: string;
  port: number;
}

export interface HostTypeDocument {
  name: string;
  bounce?: BounceDocument;
  messageTtl?: number;
  isolated: boolean;
}

export interface ComponentDocument {
  domain: string;
  secret: string;
  /** Still accepted during a rotation. */
  previousSecret?: string;
  hidden: boolean;
  balancing?: ComponentBalancing;
}

export interface JwtDocument {
  algorithm: JwtAlgorithm;
  secret?: string;
  /** Still accepted during a rotation (HS256). */
  previousSecret?: string;
  publicKey?: string;
  /** Still accepted during a rotation (RS256, ES256). */
  previousPublicKey?: string;
  usernameClaim: string;
  requireExp: boolean;
}

export interface AuthDocument {
  jwt: JwtDocument;
  allowPlaintext: boolean;
}

export interface LimitsDocument {
  maxStanzaBytes: number;
  preAuthStanzaBytes: number;
  maxDepth: number;
  maxAttributes: number;
  maxAttributeBytes: number;
  authTimeoutS: number;
  maxConnectionsPerIp: number;
  stanzasPerSecond: number;
  stanzaBurst: number;
}

/** The part of the document served by GET/PUT /v1/settings. */
export interface SettingsDocument {
  globalHost: string;
  messageTtl: number;
  connections: ConnectionsDocument;
  cache: CacheDocument;
  redis: RedisPolicyDocument;
  auth: AuthDocument;
  limits: LimitsDocument;
}

/** One revision's configuration snapshot, keys in canonical order. */
export interface MeridianConfigDocument {
  globalHost: string;
  datacenters: DatacenterDocument[];
  messageTtl: number;
  connections: ConnectionsDocument;
  cache: CacheDocument;
  bounce: BounceDocument;
  redis: RedisPolicyDocument;
  endpointOverrides: Record<string, EndpointDocument[]>;
  hostTypes: HostTypeDocument[];
  components: ComponentDocument[];
  auth: AuthDocument;
  limits: LimitsDocument;
}

export const SETTINGS_KEYS = [
  'globalHost',
  'messageTtl',
  'connections',
  'cache',
  'redis',
  'auth',
  'limits',
] as const;

/** The settings section of a document (a copy). */
export function settingsOf(doc: MeridianConfigDocument): SettingsDocument {
  return structuredClone({
    globalHost: doc.globalHost,
    messageTtl: doc.messageTtl,
    connections: doc.connections,
    cache: doc.cache,
    redis: doc.redis,
    auth: doc.auth,
    limits: doc.limits,
  });
}
