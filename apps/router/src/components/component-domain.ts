// The one local session a component domain has on this node, whatever the number of its
// instances: LocalSessions is keyed by JID, so the instances live here and each stanza for
// the domain goes to one of them by the domain's balancing rule.
import type { Element } from 'ltx';
import type { ComponentBalancing } from '#config';
import { bareString, parseJid, type Jid } from '#xmpp';
import type { LocalSession } from '../local-delivery/local-session';
import { pickInstance } from './balancing';
import type { ComponentStream } from './component-stream';

export class ComponentDomain implements LocalSession {
  readonly kind = 'component' as const;
  readonly jid: Jid;
  /** Oldest first. */
  private readonly members: ComponentStream[] = [];

  constructor(
    readonly domain: string,
    private readonly balancing: () => ComponentBalancing | undefined,
    private readonly undeliverable: (stanza: Element) => void,
  ) {
    this.jid = { local: '', domain, resource: '' };
  }

  get instances(): readonly ComponentStream[] {
    return this.members;
  }

  add(stream: ComponentStream): void {
    this.members.push(stream);
  }

  /** @returns whether it was a member */
  remove(stream: ComponentStream): boolean {
    const index = this.members.indexOf(stream);
    if (index === -1) return false;
    this.members.splice(index, 1);
    return true;
  }

  deliver(stanza: Element): boolean {
    const ready = this.members.filter((member) => member.accepting);
    const from = parseJid(stanza.attrs.from ?? '');
    const chosen = pickInstance(ready, this.balancing(), from ? bareString(from) : '');
    if (chosen?.deliver(stanza)) return true;
    // The chosen one just went (closed, or closed for not reading): any other will do.
    for (const other of ready) if (other !== chosen && other.deliver(stanza)) return true;
    this.undeliverable(stanza);
    return true;
  }

  /** Ends every instance's stream (LocalSessions calls this only if the domain is taken over). */
  close(condition: string, text?: string): void {
    for (const member of [...this.members]) member.close(condition, text);
  }
}
