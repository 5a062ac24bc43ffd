// Handshakes in progress, per source address (an IPv6 one by its /64, see throttleKey) and
// per component domain. The growing delay of failed-handshakes.ts slows one stream, not
// guesses made in parallel over many: 50 streams sending a digest each would all be refused
// after one delay. So, as for c2s logins
// (login-attempts.ts), only a few handshakes per address and per domain are checked at a
// time; a wrong one holds its place until its answer (its delay included, even if the peer
// leaves meanwhile), a right one only for its check, so right handshakes never wait for one
// another. The others wait in the same bounded line, for the same bounded time.
//
// XEP-0114 has no temporary failure: one that cannot get a place is refused `not-authorized`,
// as a wrong handshake is, with its digest unchecked (the answer tells nothing about it).
import { throttleKey } from '#common';
import { AttemptGate } from '../c2s/login-attempts';

export class HandshakeAttempts {
  private readonly byAddress = new AttemptGate();
  private readonly byDomain = new AttemptGate();

  /**
   * Waits for a place for `address` and then for `domain` (always in this order, so two
   * handshakes never wait for each other's place). Returns the function that gives them back,
   * or null when either could not be had.
   */
  async enter(address: string, domain: string): Promise<(() => void) | null> {
    const key = throttleKey(address);
    if (!(await this.byAddress.enter(key))) return null;
    if (!(await this.byDomain.enter(domain))) {
      this.byAddress.leave(key);
      return null;
    }
    return () => {
      this.byAddress.leave(key);
      this.byDomain.leave(domain);
    };
  }

  /** Addresses and domains with handshakes in progress or waiting. */
  get size(): { readonly addresses: number; readonly domains: number } {
    return { addresses: this.byAddress.size, domains: this.byDomain.size };
  }
}
