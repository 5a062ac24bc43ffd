import type { Element } from 'ltx';
import type { Jid } from '#xmpp';

/** A stanza on its way through this node, with what mod_global_distrib carries beside it. */
export interface Routable {
  readonly stanza: Element;
  readonly from: Jid;
  readonly to: Jid;
  /** Orders a sender's stanzas (its full JID). */
  readonly senderKey: string;
  /** Hops left between datacenters. */
  readonly ttl: number;
  /** Datacenter where the stanza entered Meridian. */
  readonly origin: string;
  readonly stanzaId: string;
  /** Set when another node of this datacenter sent it here for a session of this node. */
  readonly targetNode: string | null;
  /** Send time at the origin, microseconds since the epoch. */
  readonly sentAtUs: number;
}

export const pairKey = (item: Routable) => `${item.senderKey}\u0000${item.stanza.attrs.to ?? ''}`;

/**
 * An available or unavailable presence to an account's bare JID: a broadcast of the sender's
 * state, which is never queued for a retry (a late one would be stale).
 */
export const isPresenceBroadcast = (item: Routable): boolean => {
  if (item.stanza.name !== 'presence' || item.to.resource !== '' || item.to.local === '') {
    return false;
  }
  const type = item.stanza.attrs.type as string | undefined;
  return type === undefined || type === 'unavailable';
};
