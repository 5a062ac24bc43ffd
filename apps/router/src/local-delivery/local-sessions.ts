// The sessions this node serves, and the port the edge uses to register them. Registration
// writes the session table in Redis before it resolves, so once a client is told it is
// online every datacenter can route to it (ARCHITECTURE §12).
import { Injectable, Logger } from '@nestjs/common';
import type { Element } from 'ltx';
import { bareString, isDomainJid, jidToString, type Jid } from '#xmpp';
import { RouterStatus } from '../config-sync/router-status';
import { SessionTable } from '../session-table/session-table';
import type { LocalSession } from './local-session';

@Injectable()
export class LocalSessions {
  private readonly logger = new Logger(LocalSessions.name);
  private readonly byJid = new Map<string, LocalSession>();
  private readonly byBare = new Map<string, Set<LocalSession>>();
  private bareSelector: ((resources: LocalSession[], stanza: Element) => LocalSession[]) | null =
    null;

  constructor(
    private readonly table: SessionTable,
    private readonly status: RouterStatus,
  ) {}

  get count(): number {
    return this.byJid.size;
  }

  /**
   * Makes the session reachable. A session already holding the same full JID on this node is
   * replaced: it is closed with `conflict` (the newest session wins). `replacing`: another
   * session of the same JID was found elsewhere (newest wins, or a move whose old logout may
   * still be running); the session table then checks its keys shortly after writing them
   * (SessionStore.restoreMissing).
   */
  async register(session: LocalSession, options: { replacing?: boolean } = {}): Promise<void> {
    if (session.kind === 'component') await this.table.registerComponentDomain(session.jid.domain);
    else await this.table.registerSession(session.jid, options);
    const key = jidToString(session.jid);
    const previous = this.byJid.get(key);
    if (previous && previous !== session) {
      this.remove(key, previous);
      previous.close('conflict', 'replaced by a new session');
      this.logger.log({ jid: key }, 'session replaced by a newer one');
    }
    this.byJid.set(key, session);
    if (!isDomainJid(session.jid)) {
      const bare = bareString(session.jid);
      let resources = this.byBare.get(bare);
      if (!resources) this.byBare.set(bare, (resources = new Set()));
      resources.add(session);
    }
    this.status.setSessionCount(this.byJid.size);
  }

  /** Removes the session, and its Redis entries unless a newer session took them over. */
  async unregister(session: LocalSession): Promise<void> {
    const key = jidToString(session.jid);
    if (this.byJid.get(key) !== session) return;
    this.remove(key, session);
    this.status.setSessionCount(this.byJid.size);
    if (session.kind === 'component')
      await this.table.unregisterComponentDomain(session.jid.domain);
    else await this.table.unregisterSession(session.jid);
  }

  /** The session of a full JID or component domain on this node. */
  find(jid: Jid): LocalSession | undefined {
    return this.byJid.get(jidToString(jid));
  }

  /**
   * Which of a bare JID's resources on this node get a stanza addressed to the bare JID.
   * The edge refines this with presence (RFC 6121 §8.5.2: messages to the highest-priority
   * available resources); by default every resource does.
   */
  recipientsOfBare(bare: Jid, stanza: Element): LocalSession[] {
    const resources = this.resourcesOf(bare);
    return this.bareSelector ? this.bareSelector(resources, stanza) : resources;
  }

  /** The edge installs its RFC 6121 selection here. */
  useBareSelector(selector: (resources: LocalSession[], stanza: Element) => LocalSession[]): void {
    this.bareSelector = selector;
  }

  /** Every resource of a bare JID on this node. */
  resourcesOf(bare: Jid): LocalSession[] {
    const resources = this.byBare.get(bareString(bare));
    return resources ? [...resources] : [];
  }

  all(): LocalSession[] {
    return [...this.byJid.values()];
  }

  private remove(key: string, session: LocalSession): void {
    this.byJid.delete(key);
    const bare = bareString(session.jid);
    const resources = this.byBare.get(bare);
    if (resources?.delete(session) && resources.size === 0) this.byBare.delete(bare);
  }
}
