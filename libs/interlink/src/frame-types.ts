// What travels on an interlink, as plain data. The header fields follow ARCHITECTURE §7 and the
// InterlinkService contract of docs/router-core.md.

/** One stanza and the routing facts that travel with it between nodes and datacenters. */
export interface InterlinkEnvelope {
  /** Reroutes left between datacenters (0-255); 0 means deliver locally, never forward. */
  ttl: number;
  /** localHost of the datacenter where the stanza entered Meridian. */
  origin: string;
  /** The stanza's id attribute ('' when it has none); for logs and tracing. */
  stanzaId: string;
  /** Send time in microseconds since the epoch (whole, >= 0), for the transfer-time metric. */
  sentAtUs: number;
  /** Who the stanza is from, for ordering: one sender's stanzas stay on one link, in order. */
  senderKey: string;
  /** How many times the stanza has bounced already (0-255). */
  bounceAttempts: number;
  /** Node of the receiving datacenter the stanza is meant for, or null for any node. */
  targetNode: string | null;
  /** The stanza as serialised XML. */
  stanza: string;
}

/** The first frame on every link: who is dialling. */
export interface InterlinkHello {
  /** The sender's datacenter. */
  localHost: string;
  /** The sender's node within its datacenter. */
  node: string;
}

/** A decoded frame, or one to encode. Only FRAME_VERSION is spoken, so it is not repeated here. */
export type InterlinkFrame =
  | { kind: 'hello'; hello: InterlinkHello }
  | { kind: 'stanza'; envelope: InterlinkEnvelope }
  /** Stanza frames of this link handled so far by the accepting node, modulo 2^32. */
  | { kind: 'ack'; count: number };
