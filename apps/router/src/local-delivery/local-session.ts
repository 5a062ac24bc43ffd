import type { Element } from 'ltx';
import type { Jid } from '#xmpp';

/** What the XMPP edge implements for each stream it serves (the local-delivery port). */
export interface LocalSession {
  /** Full JID of a client session, or the bare domain JID of a component. */
  readonly jid: Jid;
  readonly kind: 'c2s' | 'component' | 'internal';
  /**
   * Hands a stanza to the stream. Must not throw; the edge bounds its own output buffer.
   * False when the session can no longer take it (its stream is ending): the router then
   * routes the stanza again instead of losing it.
   */
  deliver(stanza: Element): boolean;
  /** Ends the stream with a stream error (`conflict` when a newer session takes the JID). */
  close(condition: string, text?: string): void;
}
