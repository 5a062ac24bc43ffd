// What the fault tests measure deliveries with: a test session that notes when each stanza
// arrived, a login helper for it, and a percentile of a list of latencies.
import type { Element } from 'ltx';
import { TestSession, type RouterNode } from './router-cluster';

export class TimedSession extends TestSession {
  readonly arrivals: number[] = [];
  override deliver(stanza: Element): boolean {
    this.arrivals.push(Date.now());
    return super.deliver(stanza);
  }
}

export async function loginTimed(node: RouterNode, jid: string): Promise<TimedSession> {
  const session = new TimedSession(jid);
  await node.sessions.register(session);
  return session;
}

export const fullJid = (s: TestSession) => `${s.jid.local}@${s.jid.domain}/${s.jid.resource}`;

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
};
