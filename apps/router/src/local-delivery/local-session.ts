import type { Element } from 'ltx';
import type { Jid } from '#xmpp';

/** What the XMPP edge implements for each stream it serves (the local-delivery port). */
export interface LocalSession {
  /** Full JID of a client session, or the bare domain JID of a component. */
  readonly jid: Jid;
  readonly kind: 'c2s' | 'component' | 'internal';
  /** Hands a stanza to the stream. Must not throw; the edge bounds its own output buffer. */
  deliver(stanza: Element): void;
  /** Ends the stream with a stream error (`conflict` when a newer session takes the JID). */
  close(condition: string, text?: string): void;
}
