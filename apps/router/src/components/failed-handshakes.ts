// Wrong XEP-0114 handshakes are answered late, as failed c2s logins are: the delay grows per
// source address (an IPv6 one by its /64, see throttleKey) and per component domain
// (FailedAuthThrottle: 100 ms doubling up to 2 s, forgotten after a quiet minute, a bounded
// number of keys each). Guessing a component's secret is then slow from one address, and for
// one domain from many; a right handshake never waits.
import { throttleKey } from '#common';
import { FailedAuthThrottle } from '../c2s/connection-limits';

export class FailedHandshakes {
  private readonly byAddress = new FailedAuthThrottle();
  private readonly byDomain = new FailedAuthThrottle();

  /** Records a wrong handshake; returns how long to wait before answering it (ms). */
  failed(address: string, domain: string): number {
    const fromAddress = this.byAddress.failed(throttleKey(address));
    const forDomain = this.byDomain.failed(domain);
    return Math.max(fromAddress, forDomain);
  }

  /** Addresses and domains remembered (each bounded by FAILED_AUTH_MAX_KEYS). */
  get size(): { readonly addresses: number; readonly domains: number } {
    return { addresses: this.byAddress.size, domains: this.byDomain.size };
  }
}
