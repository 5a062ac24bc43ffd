// Which instance of a component gets a stanza when several serve one domain on this node
// (ARCHITECTURE §2 `components[].balancing`). Pure: no sockets, no Nest.
import type { ComponentBalancing } from '#config';

export interface BalancedInstance {
  /** Stable for the life of the instance (its stream id). */
  readonly id: string;
}

/**
 * `random`: any instance, uniformly (ejabberd's choice among the local ones; remote ones are
 * used only when this node has none, which routing decides). `bareSource`: the same sender's
 * bare JID always lands on the same instance while the set of instances is unchanged, and
 * when an instance leaves only its senders move (rendezvous hashing). Without balancing there
 * is at most one instance; should there be more, the oldest serves.
 */
export function pickInstance<T extends BalancedInstance>(
  instances: readonly T[],
  balancing: ComponentBalancing | undefined,
  senderBare: string,
  random: () => number = Math.random,
): T | undefined {
  if (instances.length <= 1 || balancing === undefined) return instances[0];
  if (balancing === 'random') return instances[Math.floor(random() * instances.length)];
  let best: T | undefined;
  let bestScore = -1;
  for (const instance of instances) {
    const score = rendezvousScore(senderBare, instance.id);
    if (score > bestScore) {
      best = instance;
      bestScore = score;
    }
  }
  return best;
}

/** FNV-1a over both strings, then MurmurHash3's finaliser so near keys spread evenly. */
export function rendezvousScore(key: string, instanceId: string): number {
  let hash = 0x811c9dc5;
  const text = `${key}\u0000${instanceId}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
