// The sessions and component domains registered on this node: what the refresher rewrites
// and what stop() removes. Counted, because the edge may register a replacing session of
// the same full JID (or a second instance of a balanced component) before it unregisters
// the old one; the keys go only when the last one leaves.
import { bareOf, jidToString, type Jid } from '#xmpp';

export interface LocalBare {
  readonly bare: string;
  /** Full JIDs of this bare JID with a session on this node. */
  readonly sessions: readonly Jid[];
}

export class LocalRegistrations {
  /** bare JID -> resource -> the full JID and its number of registrations. */
  private readonly sessions = new Map<string, Map<string, { full: Jid; count: number }>>();
  private readonly domains = new Map<string, number>();

  get sessionCount(): number {
    let count = 0;
    for (const resources of this.sessions.values()) count += resources.size;
    return count;
  }

  get domainCount(): number {
    return this.domains.size;
  }

  /** @returns true when this is the first registration of that full JID */
  addSession(full: Jid): boolean {
    const bare = jidToString(bareOf(full));
    const resources = this.sessions.get(bare) ?? new Map<string, { full: Jid; count: number }>();
    this.sessions.set(bare, resources);
    const count = resources.get(full.resource)?.count ?? 0;
    resources.set(full.resource, { full, count: count + 1 });
    return count === 0;
  }

  /** @returns true when the last registration of that full JID is gone */
  removeSession(full: Jid): boolean {
    const bare = jidToString(bareOf(full));
    const resources = this.sessions.get(bare);
    const entry = resources?.get(full.resource);
    if (!resources || !entry) return false;
    if (entry.count > 1) {
      resources.set(full.resource, { full, count: entry.count - 1 });
      return false;
    }
    resources.delete(full.resource);
    if (resources.size === 0) this.sessions.delete(bare);
    return true;
  }

  hasSession(full: Jid): boolean {
    return this.sessions.get(jidToString(bareOf(full)))?.has(full.resource) ?? false;
  }

  /** Other resources of the same bare JID still on this node. */
  hasBare(bare: string): boolean {
    return this.sessions.has(bare);
  }

  addDomain(domain: string): boolean {
    const count = this.domains.get(domain) ?? 0;
    this.domains.set(domain, count + 1);
    return count === 0;
  }

  removeDomain(domain: string): boolean {
    const count = this.domains.get(domain);
    if (count === undefined) return false;
    if (count > 1) {
      this.domains.set(domain, count - 1);
      return false;
    }
    this.domains.delete(domain);
    return true;
  }

  hasDomain(domain: string): boolean {
    return this.domains.has(domain);
  }

  /** A copy, so a refresh in progress does not see registrations change under it. */
  bares(): LocalBare[] {
    return [...this.sessions].map(([bare, resources]) => ({
      bare,
      sessions: [...resources.values()].map(({ full }) => full),
    }));
  }

  domainList(): string[] {
    return [...this.domains.keys()];
  }

  clear(): void {
    this.sessions.clear();
    this.domains.clear();
  }
}
