// Which connection of a destination carries a sender's stanzas. A sender must stay on one
// connection so its stanzas arrive in order (ARCHITECTURE §6). The endpoint is chosen by
// rendezvous hashing, so adding or removing one endpoint moves only the senders that must
// move; the connection within the endpoint's pool by a second, independent hash.

/** FNV-1a over UTF-16 code units: fast, and the same for a key in every process. */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** murmur3's finaliser: spreads every input bit over the output. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export interface Slot {
  /** Index into the endpoint list the hashes were given in. */
  endpoint: number;
  /** Connection within that endpoint's pool. */
  connection: number;
}

/**
 * The slot of a sender. `endpointHashes` are hashKey() of the endpoints' keys (their order does
 * not matter: the winner is the same endpoint whatever the order). Needs at least one endpoint.
 */
export function pickSlot(
  senderHash: number,
  endpointHashes: readonly number[],
  connectionsPerEndpoint: number,
): Slot {
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < endpointHashes.length; i++) {
    const score = mix32(senderHash ^ endpointHashes[i]);
    // Ties (rare) go to the larger endpoint hash, so order never decides.
    if (score > bestScore || (score === bestScore && endpointHashes[i] > endpointHashes[best])) {
      best = i;
      bestScore = score;
    }
  }
  const connection = mix32(senderHash + 0x9e3779b9) % connectionsPerEndpoint;
  return { endpoint: best, connection };
}
