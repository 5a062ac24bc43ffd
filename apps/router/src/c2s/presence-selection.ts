// Which of a bare JID's resources on this node get a stanza addressed to the bare JID
// (RFC 6121 §8.5.2), from the presence each client session announced. Pure.
import type { Element } from 'ltx';

export interface PresenceState {
  /** Sent initial presence and not unavailable since. */
  readonly available: boolean;
  /** -128..127, from the last available presence (0 when none). */
  readonly priority: number;
}

/**
 * - message (normal, chat, headline): the available resources of the highest non-negative
 *   priority (all of them on a tie); none when every available resource is negative.
 *   groupchat and error messages: none (RFC 6121 §8.5.2.1.1).
 * - presence: every available resource.
 * - anything else (iq is answered by the server before this): none.
 * `states[i]` is the presence of `resources[i]`; `null` marks a session that is not a client
 * stream (test or internal sessions), which always receives.
 */
export function selectBareRecipients<T>(
  resources: readonly T[],
  states: readonly (PresenceState | null)[],
  stanza: Element,
): T[] {
  const always = resources.filter((_, i) => states[i] === null);
  const available = resources
    .map((resource, i) => ({ resource, state: states[i] }))
    .filter((entry): entry is { resource: T; state: PresenceState } => !!entry.state?.available);
  if (stanza.name === 'presence') return [...always, ...available.map((e) => e.resource)];
  if (stanza.name !== 'message') return always;
  const type = stanza.attrs.type ?? 'normal';
  if (type === 'groupchat' || type === 'error') return always;
  const eligible = available.filter((e) => e.state.priority >= 0);
  if (eligible.length === 0) return always;
  const top = Math.max(...eligible.map((e) => e.state.priority));
  return [...always, ...eligible.filter((e) => e.state.priority === top).map((e) => e.resource)];
}

/** The priority of an available presence: its <priority/> child, clamped; 0 when absent or bad. */
export function priorityOf(presence: Element): number {
  const text = presence.getChildText('priority');
  if (text === null) return 0;
  const value = Number.parseInt(text.trim(), 10);
  if (!Number.isFinite(value)) return 0;
  return Math.max(-128, Math.min(127, value));
}
