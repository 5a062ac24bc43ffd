// The routing decision of mod_global_distrib as a pure function: given what the session table
// and this node know about the recipient, where does a stanza go? No I/O, no Nest.

export interface RouteFacts {
  /** This node's datacenter and name. */
  readonly localHost: string;
  readonly selfNode: string;
  /** The recipient has no localpart (a domain, a datacenter, a component). */
  readonly toDomainOnly: boolean;
  /** The recipient's domain is the global host, an enabled dynamic domain, or this datacenter. */
  readonly toServedDomain: boolean;
  /** Sessions for the recipient on this node (the full JID's, or the bare JID's resources). */
  readonly localSessions: number;
  /** Datacenter holding the recipient per the session table (or origin learning); null: unknown. */
  readonly location: string | null;
  /** For a recipient in this datacenter: the node(s) holding it; empty when unknown. */
  readonly nodes: readonly string[];
  /** Hops left between datacenters (set at the first datacenter to `messageTtl`). */
  readonly ttl: number;
}

export type RouteDecision =
  /** Addressed to a served domain itself: the local server answers it. */
  | { readonly kind: 'server' }
  | { readonly kind: 'local' }
  | { readonly kind: 'node'; readonly node: string }
  | { readonly kind: 'datacenter'; readonly localHost: string; readonly ttl: number }
  /** TTL exhausted: routed locally (`stop_ttl_zero`); with no local session, the sender gets an error. */
  | { readonly kind: 'ttl-zero'; readonly deliverable: boolean }
  /** No route yet: keep it and retry (or error when bounce is off). */
  | { readonly kind: 'bounce' };

export function decideRoute(facts: RouteFacts): RouteDecision {
  if (facts.localSessions > 0) return { kind: 'local' };
  if (facts.toDomainOnly && facts.toServedDomain) return { kind: 'server' };

  if (facts.location === null) return { kind: 'bounce' };

  if (facts.location === facts.localHost) {
    // The table says "here" but this node has no session: another node of this datacenter,
    // or a stale entry that a retry will see corrected.
    const other = facts.nodes.find((node) => node !== facts.selfNode);
    return other === undefined ? { kind: 'bounce' } : { kind: 'node', node: other };
  }

  // Another datacenter. Never forward once the TTL is spent (two datacenters with stale
  // mappings would otherwise bounce a stanza between them forever).
  if (facts.ttl <= 0) return { kind: 'ttl-zero', deliverable: false };
  return { kind: 'datacenter', localHost: facts.location, ttl: facts.ttl - 1 };
}
