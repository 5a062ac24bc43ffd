// A router node crashes (SIGKILL) or is stopped (SIGTERM) under steady traffic, with real
// router processes: dc1 has nodes `a` and `b`, dc2 has `c`. Users are logged in on `a`;
// senders on `b` and `c` write to them steadily, and chat between `b` and `c` runs beside it.
// Nothing may be lost silently: every message is delivered, or its sender gets an error, also
// what was on the wire to a node at the instant it was killed (the links acknowledge what the
// receiving node has handled; the rest is written again or routed again). Delivery is at least
// once: a message the dead node had handled but not yet acknowledged can arrive twice, and the
// figures count those. The surviving nodes are never restarted. One line of figures is printed
// at the end.
import { existsSync } from 'node:fs';
import type { Element } from 'ltx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';
import { publishRevision, until } from '../support/router-cluster';
import {
  ROUTER_MAIN,
  startRouterProcess,
  type RouterProcess as Node,
} from '../support/router-process';
import { XmppTestClient } from '../support/xmpp-client';
import { BOUNCE_BUDGET_MS, EXPIRE_AFTER_S, faultConfig } from '../support/fault-config';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
/** The routers' default: links down this long count as unreachable, and their stanzas bounce. */
const UNREACHABLE_AFTER_MS = 2_000;
const TICK_MS = 100;

interface Sent {
  readonly id: string;
  readonly to: string;
  readonly at: number;
  /** 'victim': to a user of the node that goes away; 'survivor': between b and c. */
  readonly kind: 'victim' | 'survivor';
}

let redis: TestRedis;
const nodes: Node[] = [];
const clients: XmppTestClient[] = [];
const sent: Sent[] = [];
const deliveredAt = new Map<string, number>();
/** Messages that arrived more than once (at-least-once delivery after a crash). */
const duplicated = new Set<string>();
const erroredAt = new Map<string, number>();
const figures: Record<string, string | number> = {};

async function startNode(localHost: string, name: string): Promise<Node> {
  const node = await startRouterProcess({
    redisUrl: redis.url,
    localHost,
    node: name,
    env: { LOG_LEVEL: process.env.CRASH_DEBUG ? 'info' : 'warn' },
  });
  nodes.push(node);
  return node;
}

/** Logs a user in on a node; every message it receives is recorded by body or error id. */
async function login(node: Node, username: string, resource: string): Promise<XmppTestClient> {
  const client = await XmppTestClient.connect({ port: node.c2sPort, username, resource });
  client.xmpp.on('stanza', (stanza: Element) => {
    if (stanza.name !== 'message') return;
    if (stanza.attrs.type === 'error') erroredAt.set(String(stanza.attrs.id), Date.now());
    else {
      const body = stanza.getChildText('body') ?? '';
      if (deliveredAt.has(body)) duplicated.add(body);
      else deliveredAt.set(body, Date.now());
    }
  });
  clients.push(client);
  return client;
}

const settled = (m: Sent) => deliveredAt.has(m.id) || erroredAt.has(m.id);

/**
 * Steady traffic until stopped: each tick, every sender writes once to every victim, and the
 * two senders write to each other. Sends are not awaited one by one, as a client would not.
 */
function traffic(
  senders: XmppTestClient[],
  victims: () => string[],
  label: string,
): { stop: () => Promise<void> } {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      for (const [i, from] of senders.entries()) {
        for (const to of victims()) {
          const id = `${label}-${n++}`;
          sent.push({ id, to, at: Date.now(), kind: 'victim' });
          void from.message(to, id, { id }).catch(() => undefined);
        }
        const peer = senders[(i + 1) % senders.length]!;
        const id = `${label}-${n++}`;
        sent.push({ id, to: peer.jid, at: Date.now(), kind: 'survivor' });
        void from.message(peer.jid, id, { id }).catch(() => undefined);
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, TICK_MS - (Date.now() - started))),
      );
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Resolves with the time the client's connection is seen gone (xmpp.js: status leaves online). */
async function offline(client: XmppTestClient): Promise<number> {
  await until(() => !client.online, 20_000, `${client.jid} sees its connection drop`);
  return Date.now();
}

function tally(prefix: string) {
  const mine = sent.filter((m) => m.id.startsWith(`${prefix}-`));
  const delivered = mine.filter((m) => deliveredAt.has(m.id));
  const errored = mine.filter((m) => erroredAt.has(m.id) && !deliveredAt.has(m.id));
  const lost = mine.filter((m) => !settled(m));
  const survivors = mine.filter((m) => m.kind === 'survivor');
  return { mine, delivered, errored, lost, survivors };
}

describe('a router node crashes or stops under traffic', () => {
  let a: Node;
  let b: Node;
  let c: Node;
  let s1: XmppTestClient;
  let s2: XmppTestClient;

  beforeAll(async () => {
    expect(existsSync(ROUTER_MAIN), 'run `npm run build` before the tests').toBe(true);
    redis = await leaseRedisDatabase();
    const config = faultConfig([DC1, DC2]);
    await publishRevision(redis, 1, config);
    [a, b, c] = await Promise.all([startNode(DC1, 'a'), startNode(DC1, 'b'), startNode(DC2, 'c')]);
    s1 = await login(b, 's1', 's');
    s2 = await login(c, 's2', 's');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.stop()));
    for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL');
    await redis?.release();
    if (process.env.CRASH_DEBUG)
      for (const node of nodes) console.log(`--- ${node.name}\n${node.output()}`);
    console.log(
      `router-crash figures: ${Object.entries(figures)
        .map(([key, value]) => `${key}=${value}`)
        .join(' ')}`,
    );
  });

  it('SIGKILL: survivors keep chatting, the crashed users are reached elsewhere or their senders get errors, the dead node is cleaned up', async () => {
    const v1 = await login(a, 'v1', 'r');
    const v2 = await login(a, 'v2', 'r');
    // v3 never comes back: everything for it after the crash must end in an error.
    const v3 = await login(a, 'v3', 'r');
    const victims = ['v1@example.com/r', 'v2@example.com/r', 'v3@example.com/r'];
    const load = traffic([s1, s2], () => victims, 'kill');
    await until(() => tally('kill').delivered.length >= 60, 20_000, 'traffic flowing');

    const inFlightAtKill = new Set(
      sent.filter((m) => m.id.startsWith('kill-') && !settled(m)).map((m) => m.id),
    );
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    const droppedAt = await Promise.all([v1, v2, v3].map(offline));
    figures.killDropMs = Math.max(...droppedAt) - killedAt;

    // The users reconnect as a balancer would send them: v1 to b (same datacenter), v2 to c.
    const [v1b, v2c] = await Promise.all([login(b, 'v1', 'r'), login(c, 'v2', 'r')]);
    const reconnectedAt = Date.now();
    figures.killReconnectMs = reconnectedAt - killedAt;
    expect(v1b.online && v2c.online).toBe(true);

    // Liveness removes the dead node; its keys expire. Traffic goes on meanwhile.
    await until(
      async () => (await redis.client.sismember(`${DC1}#{nodes}`, 'a')) === 0,
      EXPIRE_AFTER_S * 1000 + 20_000,
      'a removed from dc1 nodes',
    );
    figures.killNodeRemovedMs = Date.now() - killedAt;
    expect(await redis.client.exists(`${DC1}#a#{heartbeat}`)).toBe(0);
    expect(await redis.client.exists(`${DC1}#a#{endpoints}`)).toBe(0);
    await until(
      async () =>
        (await redis.client.exists('v3@example.com/r', 'v3@example.com')) === 0 &&
        (await redis.client.hget(`${DC1}#v3@example.com#resources`, 'r')) === null,
      EXPIRE_AFTER_S * 1000 + 10_000,
      "v3's keys expired",
    );
    figures.killV3ExpiredMs = Date.now() - killedAt;
    expect(await redis.client.get('v1@example.com/r')).toBe(DC1);
    expect(await redis.client.hget(`${DC1}#v1@example.com#resources`, 'r')).toBe('b');
    expect(await redis.client.get('v2@example.com/r')).toBe(DC2);
    // A few more seconds of traffic to the reconnected users and to the vanished v3.
    const after = sent.length;
    await until(
      () => sent.slice(after).filter((m) => m.kind === 'victim').length >= 60,
      20_000,
      'traffic after the cleanup',
    );
    await load.stop();
    const stoppedAt = Date.now();
    await until(
      () => tally('kill').lost.length === 0,
      BOUNCE_BUDGET_MS + 16_000,
      'every message delivered or errored',
    ).catch(() => undefined);
    figures.killSettleAfterStopMs = Date.now() - stoppedAt;

    const { mine, delivered, errored, lost, survivors } = tally('kill');
    figures.killSent = mine.length;
    figures.killDelivered = delivered.length;
    figures.killErrored = errored.length;
    figures.killInFlightAtKill = inFlightAtKill.size;
    figures.killLost = lost.length;
    figures.killDuplicated = mine.filter((m) => duplicated.has(m.id)).length;
    figures.killSurvivorSent = survivors.length;
    figures.killSurvivorDelivered = survivors.filter((m) => deliveredAt.has(m.id)).length;
    figures.killSurvivorMaxDeliveryMs = Math.max(
      ...survivors.filter((m) => deliveredAt.has(m.id)).map((m) => deliveredAt.get(m.id)! - m.at),
    );
    const lateForV1 = mine.filter(
      (m) =>
        m.to.startsWith('v1@') &&
        m.at < reconnectedAt &&
        (deliveredAt.get(m.id) ?? 0) > reconnectedAt,
    );
    figures.killDeliveredAfterReconnect = lateForV1.length;
    figures.killMaxDeliveryMs = Math.max(...delivered.map((m) => deliveredAt.get(m.id)! - m.at));
    const errorDelays = errored.map((m) => erroredAt.get(m.id)! - m.at);
    figures.killMaxErrorMs = errorDelays.length > 0 ? Math.max(...errorDelays) : 0;
    // Errors come once the dead node's links count as unreachable and the bounce budget is
    // spent, not when its heartbeat expires (expireAfterS: 5 s here, 120 s by default).
    expect(figures.killMaxErrorMs).toBeLessThan(UNREACHABLE_AFTER_MS + BOUNCE_BUDGET_MS + 1_250);

    if (process.env.CRASH_DEBUG) {
      for (const m of lost) console.log('lost', m.id, m.to, m.at - killedAt);
    }
    expect(
      lost.map((m) => m.id),
      'sent neither delivered nor errored',
    ).toEqual([]);
    expect(delivered.length + errored.length).toBe(mine.length);
    // Chat between the surviving nodes was never interrupted.
    expect(survivors.filter((m) => !deliveredAt.has(m.id)).map((m) => m.id)).toEqual([]);
    // Users who came back got what was sent to them after their login; v3 got nothing more.
    for (const m of mine) {
      if (m.at > reconnectedAt && !m.to.startsWith('v3@') && m.kind === 'victim') {
        expect(deliveredAt.has(m.id), m.id).toBe(true);
      }
      if (m.at > killedAt + 1000 && m.to.startsWith('v3@')) {
        expect(erroredAt.has(m.id), m.id).toBe(true);
      }
    }
    // The surviving nodes never stopped.
    expect(b.child.exitCode).toBeNull();
    expect(c.child.exitCode).toBeNull();
    expect(await b.ready()).toBe(200);
    expect(await c.ready()).toBe(200);
  }, 90_000);
  it('SIGTERM under traffic: the node drains, its users move, exit code 0, nothing else lost', async () => {
    // Started again under the crashed node's name: nothing had to be cleaned by hand.
    const a2 = await startNode(DC1, 'a');
    const w1 = await login(a2, 'w1', 'r');
    const w2 = await login(a2, 'w2', 'r');
    const victims = ['w1@example.com/r', 'w2@example.com/r'];
    const load = traffic([s1, s2], () => victims, 'term');
    await until(() => tally('term').delivered.length >= 60, 20_000, 'traffic flowing');

    a2.child.kill('SIGTERM');
    const termAt = Date.now();
    // Its clients are told why (ARCHITECTURE §9) and reconnect elsewhere at once.
    const conditions = await Promise.all([w1, w2].map((w) => w.streamError(15_000)));
    expect(conditions).toEqual(['system-shutdown', 'system-shutdown']);
    figures.termShutdownNoticeMs = Date.now() - termAt;
    const [w1b, w2c] = await Promise.all([login(b, 'w1', 'r'), login(c, 'w2', 'r')]);
    const reconnectedAt = Date.now();
    figures.termReconnectMs = reconnectedAt - termAt;
    expect(w1b.online && w2c.online).toBe(true);
    const code = await a2.exited;
    figures.termExitMs = Date.now() - termAt;
    figures.termExitCode = String(code);
    expect(code, a2.output()).toBe(0);
    // It removed its own entries on the way out: no waiting for liveness.
    expect(await redis.client.sismember(`${DC1}#{nodes}`, 'a')).toBe(0);
    expect(await redis.client.exists(`${DC1}#a#{heartbeat}`)).toBe(0);
    expect(await redis.client.exists(`meridian:router:${DC1}:a`)).toBe(0);

    const after = sent.length;
    await until(
      () => sent.slice(after).filter((m) => m.kind === 'victim').length >= 40,
      20_000,
      'traffic after the stop',
    );
    await load.stop();
    const stoppedAt = Date.now();
    await until(
      () => tally('term').lost.length === 0,
      BOUNCE_BUDGET_MS + 16_000,
      'every message delivered or errored',
    ).catch(() => undefined);
    figures.termSettleAfterStopMs = Date.now() - stoppedAt;

    const { mine, delivered, errored, lost, survivors } = tally('term');
    figures.termSent = mine.length;
    figures.termDelivered = delivered.length;
    figures.termErrored = errored.length;
    figures.termLost = lost.length;
    figures.termDuplicated = mine.filter((m) => duplicated.has(m.id)).length;
    figures.termSurvivorSent = survivors.length;
    figures.termSurvivorDelivered = survivors.filter((m) => deliveredAt.has(m.id)).length;
    figures.termMaxDeliveryMs = Math.max(...delivered.map((m) => deliveredAt.get(m.id)! - m.at));
    if (process.env.CRASH_DEBUG) {
      for (const m of lost) console.log('lost', m.id, m.to, m.at - termAt);
    }
    expect(
      lost.map((m) => m.id),
      'sent neither delivered nor errored',
    ).toEqual([]);
    // A drained node acknowledges everything it handled before it ends its links: no repeats.
    expect(figures.termDuplicated).toBe(0);
    expect(survivors.filter((m) => !deliveredAt.has(m.id)).map((m) => m.id)).toEqual([]);
    for (const m of mine) {
      if (m.at > reconnectedAt && m.kind === 'victim') {
        expect(deliveredAt.has(m.id), m.id).toBe(true);
      }
    }
    expect(b.child.exitCode).toBeNull();
    expect(c.child.exitCode).toBeNull();
  }, 90_000);
});
