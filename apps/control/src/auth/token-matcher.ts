import { createHash, timingSafeEqual } from 'node:crypto';
import type { AdminToken } from '../env/control-env';
import type { AdminIdentity } from './admin-identity';

/**
 * Finds the admin token a bearer credential matches. Both sides are hashed to a fixed length
 * and every token is compared, so the time taken says nothing about which token, or how much
 * of one, matched.
 */
export class TokenMatcher {
  private readonly digests: { digest: Buffer; identity: AdminIdentity }[];

  constructor(tokens: readonly AdminToken[]) {
    this.digests = tokens.map((t) => ({
      digest: sha256(t.token),
      identity: { name: t.name, readOnly: t.readOnly },
    }));
  }

  match(credential: string): AdminIdentity | null {
    const candidate = sha256(credential);
    let found: AdminIdentity | null = null;
    for (const { digest, identity } of this.digests) {
      if (timingSafeEqual(digest, candidate) && found === null) found = identity;
    }
    return found;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
