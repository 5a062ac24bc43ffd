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
