// Redis keys written by control and read by routers (ARCHITECTURE §4, §4b, §5).
// Unprefixed on purpose: the layout is a contract shared with MongooseIM's seed.

export const CONFIG_LATEST_KEY = 'meridian:config:latest';
export const configRevisionKey = (n: number) => `meridian:config:rev:${n}`;
export const CONFIG_CHANNEL = 'meridian:config';

export const DOMAINS_KEY = 'meridian:domains';
export const DOMAIN_EVENTS_KEY = 'meridian:domains:events';
export const DOMAIN_SEQ_KEY = 'meridian:domains:seq';
export const DOMAINS_CHANNEL = 'meridian:domains';
/** How many recent domain events Redis keeps for routers to repair a gap from. */
export const DOMAIN_EVENTS_KEPT = 10_000;

export const ROUTER_STATUS_PATTERN = 'meridian:router:*';
export const routerStatusKey = (localHost: string, node: string) =>
  `meridian:router:${localHost}:${node}`;

export const HOSTS_KEY = 'hosts';
export const nodesKey = (localHost: string) => `${localHost}#{nodes}`;
export const nodeHeartbeatKey = (localHost: string, node: string) =>
  `${localHost}#${node}#{heartbeat}`;
export const nodeEndpointsKey = (localHost: string, node: string) =>
  `${localHost}#${node}#{endpoints}`;
export const nodeDomainsKey = (localHost: string, node: string) => `${localHost}#${node}#{domains}`;

/**
 * A full or bare JID, or a component domain, -> the localHost of the datacenter serving it.
 * The key is the JID itself, as in MongooseIM's mapping.
 */
export const sessionKey = (jidOrDomain: string) => jidOrDomain;
/**
 * Per datacenter and bare JID: hash resource -> node holding that session. No `{...}` hash
 * tag on purpose, so these keys spread over a Redis Cluster (docs/router-core.md).
 */
export const datacenterResourcesKey = (localHost: string, bareJid: string) =>
  `${localHost}#${bareJid}#resources`;

/** Members of `<localHost>#<node>#{endpoints}`: `<ip>#<port>` (the last `#` splits). */
export const encodeEndpoint = (host: string, port: number) => `${host}#${port}`;
export function decodeEndpoint(value: string): { host: string; port: number } | null {
  const hash = value.lastIndexOf('#');
  const port = Number(value.slice(hash + 1));
  if (hash <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: value.slice(0, hash), port };
}

/**
 * Session and component arrivals/departures (ARCHITECTURE §12): every router drops its cached
 * entries for the JIDs named. Pub/sub does not cross Dynomite, so the cache lifetimes remain
 * the fallback.
 */
export const INVALIDATE_CHANNEL = 'meridian:invalidate';

/** Payload on `meridian:invalidate` (JSON): full JIDs, bare JIDs and component domains. */
export interface InvalidationNotice {
  readonly jids: readonly string[];
  /** `<localHost>#<node>` of the publisher, for logs and debugging. */
  readonly origin?: string;
}

export const encodeInvalidationNotice = (notice: InvalidationNotice) => JSON.stringify(notice);
/** The notice, or null for anything that is not one (the channel is open to any client). */
export function decodeInvalidationNotice(message: string): InvalidationNotice | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { jids, origin } = parsed as { jids?: unknown; origin?: unknown };
  if (!Array.isArray(jids) || !jids.every((jid) => typeof jid === 'string')) return null;
  return typeof origin === 'string' ? { jids, origin } : { jids };
}

/** The value of `meridian:config:latest` and `meridian:config:rev:<n>`. */
export interface PublishedRevision {
  readonly revision: number;
  readonly hash: string;
  readonly createdAt: string;
  /** The full snapshot, secrets included: routers need them. */
  readonly config: unknown;
}

/** One entry of `meridian:domains:events`, also the payload published on `meridian:domains`. */
export interface PublishedDomainEvent {
  readonly seq: number;
  readonly op: 'upsert' | 'delete';
  readonly domain: string;
  readonly hostType?: string;
  readonly enabled?: boolean;
}

/** `meridian:domains` hash values are `<hostType>|<enabled: 1|0>`. */
export const encodeDomainState = (hostType: string, enabled: boolean) =>
  `${hostType}|${enabled ? 1 : 0}`;
export function decodeDomainState(value: string): { hostType: string; enabled: boolean } {
  const bar = value.lastIndexOf('|');
  return { hostType: value.slice(0, bar), enabled: value.slice(bar + 1) === '1' };
}

/** What a router writes at `meridian:router:<localHost>:<node>` on every heartbeat. */
export interface RouterStatusRecord {
  readonly node: string;
  readonly localHost: string;
  /** Revision in force on the router (0 = none yet). */
  readonly revision: number;
  /** Dynamic-domain `seq` applied. */
  readonly domainSeq: number;
  /** `ack`: the latest revision it saw is applied; `nack`: it refused `rejectedRevision`. */
  readonly status: 'ack' | 'nack';
  readonly rejectedRevision?: number;
  readonly error?: string;
  readonly errors?: readonly { path: string; message: string }[];
  readonly startedAt: string;
  readonly heartbeatAt: string;
  readonly sessions?: number;
  readonly endpoints?: readonly string[];
}
