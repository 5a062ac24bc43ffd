// XEP-0114 §3 authentication: the component proves it knows the shared secret by sending
// hex(SHA1(streamId + secret)). Pure functions, no sockets.
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomHex } from '#common';

/** A fresh, unguessable stream id for each stream (it salts the handshake). */
export function newStreamId(): string {
  return randomHex(16);
}

/** What a component holding `secret` sends in <handshake/>: lowercase hex SHA1, UTF-8 input. */
export function handshakeDigest(streamId: string, secret: string): string {
  return createHash('sha1')
    .update(streamId + secret, 'utf8')
    .digest('hex');
}

/**
 * Whether the handshake a component sent matches the secret. Constant time in the content of
 * the secret: the comparison always runs over 40 bytes, whatever was received; hex case and
 * surrounding whitespace do not matter.
 */
export function handshakeMatches(received: string, streamId: string, secret: string): boolean {
  const expected = Buffer.from(handshakeDigest(streamId, secret), 'latin1');
  const offered = Buffer.from(received.trim().toLowerCase(), 'latin1');
  const sameLength = offered.length === expected.length;
  // Compared against itself on a length mismatch, so the time spent does not depend on it.
  const equal = timingSafeEqual(sameLength ? offered : expected, expected);
  return sameLength && equal;
}

/**
 * Which secret the handshake proves: the component's current secret, or during a rotation its
 * previous one; null for neither. Both are always compared, each in constant time, so the time
 * taken does not tell which one matched or whether a previous secret is configured at all.
 */
export function provenSecret(
  received: string,
  streamId: string,
  secret: string,
  previousSecret: string | undefined,
): string | null {
  const current = handshakeMatches(received, streamId, secret);
  const previous = handshakeMatches(received, streamId, previousSecret ?? secret);
  if (current) return secret;
  return previous && previousSecret !== undefined ? previousSecret : null;
}
