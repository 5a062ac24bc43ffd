// Two or more InterlinkService instances on 127.0.0.1 with an in-memory endpoint source:
// ordering, backpressure, endpoint refresh and GC, waiting for endpoints, overrides, reconnects,
// bad input on the listener, live reconfiguration, shutdown and metrics.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHelloFrame, encodeStanzaFrame } from '#interlink';
import { InterlinkSendError } from '../../apps/router/src/interlink';
import {
  envelope,
  MemoryEndpointSource,
  metric,
  sequenceOf,
  sleep,
  startNode,
  testConfig,
  waitFor,
  type NodeSpec,
  type TestNode,
} from './interlink-harness';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

let started: TestNode[] = [];
async function node(spec: NodeSpec): Promise<TestNode> {
  const created = await startNode(spec);
  started.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(started.map((created) => created.close()));
  started = [];
});

/** A receiving node in dc2 and a sending node in dc1 that finds it through the source. */
async function pair(senderSpec: Partial<NodeSpec> = {}, receiverSpec: Partial<NodeSpec> = {}) {
  const source = new MemoryEndpointSource();
  const b = await node({ localHost: DC2, node: 'b', ...receiverSpec });
  source.set(DC2, [b.endpoint]);
  const a = await node({ localHost: DC1, node: 'a', source, ...senderSpec });
  return { a, b, source };
}

/**
 * dc2 with two endpoints, b1 and b2, and a sender a in dc1 whose refresh and GC timers stay
 * out of the way; `count` senders have sent one stanza each. Returns which senders each got.
 */
async function twoEndpointsAfterARound(count: number, options: NodeSpec['options']) {
  const source = new MemoryEndpointSource();
  const b1 = await node({ localHost: DC2, node: 'b1' });
  const b2 = await node({ localHost: DC2, node: 'b2' });
  source.set(DC2, [b1.endpoint, b2.endpoint]);
  const a = await node({
    localHost: DC1,
    node: 'a',
    source,
    options,
    config: (config) => {
      config.connections.endpointRefreshIntervalS = 60;
      config.connections.disabledGcIntervalS = 60;
    },
  });
  const all = range(count).map((i) => `u${i}@example.com`);
  await Promise.all(all.map((sender) => a.service.send({ localHost: DC2 }, envelope(sender, 0))));
  await waitFor(() => b1.received.length + b2.received.length === count, 'first round');
  const sendersOf = (b: TestNode) => [
    ...new Set(b.received.map(({ envelope: each }) => each.senderKey)),
  ];
  return { source, a, b1, b2, senders: { b1: sendersOf(b1), b2: sendersOf(b2) } };
}

/** The InterlinkSendError a send fails with (the test fails if it succeeds). */
async function failureOf(sending: Promise<void>): Promise<InterlinkSendError> {
  try {
    await sending;
  } catch (err) {
    expect(err).toBeInstanceOf(InterlinkSendError);
    return err as InterlinkSendError;
  }
  throw new Error('the send succeeded');
}

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('error', () => undefined);
    socket.resume();
  });
}

describe('interlink ordering', () => {
  it('delivers 1000 frames of one sender in order, every field intact, and moves the metrics', async () => {
    const { a, b } = await pair();
    const sent = range(1000).map((n) => envelope('alice@example.com/phone', n));
    await Promise.all(sent.map((each) => a.service.send({ localHost: DC2 }, each)));
    await waitFor(() => b.received.length === 1000, '1000 frames');

    expect(sequenceOf(b.received, 'alice@example.com/phone')).toEqual(range(1000));
    expect(b.received[7]).toEqual({ envelope: sent[7], peer: { localHost: DC1, node: 'a' } });

    expect(await metric(a.registry, 'meridian_gd_outgoing_messages_total', { host: DC2 })).toBe(
      1000,
    );
    expect(await metric(a.registry, 'meridian_gd_outgoing_queue_seconds', { host: DC2 })).toBe(
      1000,
    );
    expect(await metric(a.registry, 'meridian_gd_outgoing_established_total', { host: DC2 })).toBe(
      1,
    );
    expect(await metric(b.registry, 'meridian_gd_incoming_messages_total', { host: DC1 })).toBe(
      1000,
    );
    expect(await metric(b.registry, 'meridian_gd_incoming_transfer_seconds', { host: DC1 })).toBe(
      1000,
    );
    expect(await metric(b.registry, 'meridian_gd_incoming_established_total')).toBe(1);
    expect(await metric(b.registry, 'meridian_gd_incoming_first_packet_total', { host: DC1 })).toBe(
      1,
    );
    expect(await metric(b.registry, 'meridian_gd_incoming_errored_total')).toBe(0);
  });

  it('keeps each of 100 senders in order over connectionsPerEndpoint=100, handling senders concurrently', async () => {
    let running = 0;
    let maxRunning = 0;
    const { a, b } = await pair({
      config: (config) => {
        config.connections.connectionsPerEndpoint = 100;
      },
    });
    b.service.setHandler(async (each, peer) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      if (Number(each.stanzaId.split('-').pop()) % 3 === 0) await sleep(1);
      b.received.push({ envelope: each, peer });
      running--;
    });
    const senders = range(100).map((i) => `user${i}@example.com/r`);
    const sends: Promise<void>[] = [];
    for (const n of range(30)) {
      for (const sender of senders)
        sends.push(a.service.send({ localHost: DC2 }, envelope(sender, n)));
    }
    await Promise.all(sends);
    await waitFor(() => b.received.length === 3000, '3000 frames');

    for (const sender of senders) expect(sequenceOf(b.received, sender), sender).toEqual(range(30));
    expect(maxRunning).toBeGreaterThan(1);
    // The senders spread over many of the 100 connections (each opened on first use).
    const [destination] = a.service.destinationsInUse();
    expect(destination.connections).toBeGreaterThan(40);
    expect(destination.connections).toBeLessThanOrEqual(100);
    expect(b.service.incoming.links).toBe(destination.connections);
  });
});

describe('interlink backpressure', () => {
  it('makes send() wait while the receiving handler lags, with bounded queues on both sides', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { a, b } = await pair(
      { options: { queue: { maxFrames: 64, maxBytes: 256 * 1024 }, sendTimeoutMs: 60_000 } },
      { options: { incoming: { maxInFlightFrames: 32, maxInFlightBytes: 1024 * 1024 } } },
    );
    b.service.setHandler(async (each, peer) => {
      await gate;
      b.received.push({ envelope: each, peer });
    });
    const total = 20_000;
    const body = 'x'.repeat(2000);
    let resolved = 0;
    const sends = range(total).map((n) =>
      a.service
        .send(
          { localHost: DC2 },
          envelope('bulk@example.com', n, { stanza: `<message><body>${body}</body></message>` }),
        )
        .then(() => resolved++),
    );
    await sleep(1500);

    // The socket buffers of both kernels hold some megabytes; everything else waits.
    expect(resolved).toBeLessThan(total / 2);
    const [destination] = a.service.destinationsInUse();
    expect(destination.queuedFrames).toBeLessThanOrEqual(64);
    expect(destination.waitingSends).toBe(total - resolved);
    // One lane per sender: the first stanza runs, the rest wait; the socket is paused at 32.
    expect(b.service.incoming.pendingStanzas).toBeLessThanOrEqual(32 + 40);
    const pendingWhileBlocked = b.service.incoming.pendingStanzas;
    await sleep(300);
    expect(b.service.incoming.pendingStanzas).toBe(pendingWhileBlocked);

    release();
    await Promise.all(sends);
    await waitFor(
      () => b.received.length === total,
      'all frames after the handler caught up',
      30_000,
    );
    expect(sequenceOf(b.received, 'bulk@example.com')).toEqual(range(total));
  });

  it('rejects a send with reason timeout when the queue stays full for the send timeout', async () => {
    const { a, b } = await pair(
      {
        options: { queue: { maxFrames: 1, maxBytes: 1 }, sendTimeoutMs: 300, closeTimeoutMs: 200 },
      },
      { options: { incoming: { maxInFlightFrames: 1, maxInFlightBytes: 1 }, closeTimeoutMs: 200 } },
    );
    b.service.setHandler(() => new Promise(() => undefined)); // never finishes
    const big = `<message><body>${'y'.repeat(60_000)}</body></message>`;
    const outcomes = await Promise.allSettled(
      range(400).map((n) =>
        a.service.send({ localHost: DC2 }, envelope('s@example.com', n, { stanza: big })),
      ),
    );
    const reasons = outcomes
      .filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')
      .map((outcome) => (outcome.reason as InterlinkSendError).reason);
    expect(reasons.length).toBeGreaterThan(0);
    expect(new Set(reasons)).toEqual(new Set(['timeout']));
  });
});

describe('interlink endpoints', () => {
  it('uses a new endpoint after the refresh interval', async () => {
    const source = new MemoryEndpointSource();
    const b1 = await node({ localHost: DC2, node: 'b1' });
    const b2 = await node({ localHost: DC2, node: 'b2' });
    source.set(DC2, [b1.endpoint]);
    const a = await node({
      localHost: DC1,
      node: 'a',
      source,
      config: (config) => {
        config.connections.endpointRefreshIntervalS = 1;
      },
    });
    const senders = range(200).map((i) => `u${i}@example.com`);
    await Promise.all(
      senders.map((sender) => a.service.send({ localHost: DC2 }, envelope(sender, 0))),
    );
    await waitFor(() => b1.received.length === 200, 'first round on b1');

    source.add(DC2, b2.endpoint);
    await waitFor(() => a.service.destinationsInUse()[0].active.length === 2, 'the refresh', 3_000);
    await Promise.all(
      senders.map((sender) => a.service.send({ localHost: DC2 }, envelope(sender, 1))),
    );
    await waitFor(() => b1.received.length + b2.received.length === 400, 'second round');
    // Rendezvous hashing moves about half of the senders to the new endpoint.
    expect(b2.received.length).toBeGreaterThan(50);
    expect(b2.received.length).toBeLessThan(150);
  });

  it('disables a vanished endpoint (no new traffic) and closes its pool by GC once idle', async () => {
    const source = new MemoryEndpointSource();
    const b1 = await node({ localHost: DC2, node: 'b1' });
    const b2 = await node({ localHost: DC2, node: 'b2' });
    source.set(DC2, [b1.endpoint, b2.endpoint]);
    const a = await node({
      localHost: DC1,
      node: 'a',
      source,
      config: (config) => {
        config.connections.endpointRefreshIntervalS = 1;
        config.connections.disabledGcIntervalS = 2;
      },
    });
    const senders = range(200).map((i) => `u${i}@example.com`);
    await Promise.all(
      senders.map((sender) => a.service.send({ localHost: DC2 }, envelope(sender, 0))),
    );
    await waitFor(() => b1.received.length + b2.received.length === 200, 'first round');
    expect(b2.received.length).toBeGreaterThan(0);
    expect(b2.service.incoming.links).toBe(1);

    source.remove(DC2, b2.address.port);
    const b2Key = `127.0.0.1:${b2.address.port}`;
    await waitFor(
      () => a.service.destinationsInUse()[0].disabled.includes(b2Key),
      'b2 disabled',
      3_000,
    );
    const b2Before = b2.received.length;
    await Promise.all(
      senders.map((sender) => a.service.send({ localHost: DC2 }, envelope(sender, 1))),
    );
    await waitFor(() => b1.received.length + b2.received.length === 400, 'second round');
    expect(b2.received.length).toBe(b2Before);

    await waitFor(
      () => b2.service.incoming.links === 0 && a.service.destinationsInUse()[0].retiring === 0,
      'the GC closing the b2 pool on both ends',
      5_000,
    );
    expect(a.service.destinationsInUse()[0]).toMatchObject({
      active: [`127.0.0.1:${b1.address.port}`],
      disabled: [],
      retiring: 0,
    });
    expect(await metric(a.registry, 'meridian_gd_outgoing_closed_total', { host: DC2 })).toBe(1);
  });

  it('hands the frames queued for an endpoint that died and vanished to the remaining endpoint', async () => {
    const {
      source,
      a,
      b1,
      b2,
      senders: bound,
    } = await twoEndpointsAfterARound(100, {
      drainTimeoutMs: 300,
    });
    const onB2 = new Set(bound.b2);

    // b2 dies: frames for its senders are queued on a connection that cannot reconnect.
    await b2.close();
    await sleep(100);
    await Promise.all(
      [...onB2].map((sender) => a.service.send({ localHost: DC2 }, envelope(sender, 1))),
    );
    expect(a.service.destinationsInUse()[0].queuedFrames).toBe(onB2.size);

    // Its endpoint vanishes; the GC retires the busy pool, which gives up after drainTimeoutMs.
    source.remove(DC2, b2.address.port);
    await a.service.refreshEndpoints();
    a.service.collectGarbage();
    await waitFor(() => b1.received.length === 100, 'the stranded frames on b1', 3_000);
    const late = b1.received.filter(({ envelope: each }) => onB2.has(each.senderKey));
    expect(late.map(({ envelope: each }) => each.stanzaId).sort()).toEqual(
      [...onB2].map((sender) => `${sender}-1`).sort(),
    );
    expect(a.service.destinationsInUse()[0]).toMatchObject({
      disabled: [],
      retiring: 0,
      queuedFrames: 0,
    });
  });

  it('hands the frames queued for a node that died back to the router at once when no link takes them', async () => {
    const source = new MemoryEndpointSource();
    const b = await node({ localHost: DC2, node: 'b' });
    source.set(DC2, [b.endpoint]);
    // A drain timeout far beyond the wait below: a link that is down gives its frames up at once.
    const a = await node({
      localHost: DC1,
      node: 'a',
      source,
      options: { drainTimeoutMs: 60_000, sendTimeoutMs: 300 },
      config: (config) => {
        config.connections.endpointRefreshIntervalS = 60;
        config.connections.disabledGcIntervalS = 60;
      },
    });
    const handedBack: string[] = [];
    a.service.onUndeliverable((each) => handedBack.push(each.stanzaId));
    await a.service.send({ localHost: DC2, node: 'b' }, envelope('u@example.com', 0));
    await waitFor(() => b.received.length === 1, 'first frame');

    // b dies: what is queued for it cannot be written, and no other endpoint can take it.
    await b.close();
    await sleep(100);
    for (const n of [1, 2, 3]) {
      await a.service.send({ localHost: DC2, node: 'b' }, envelope('u@example.com', n));
    }
    source.remove(DC2, b.address.port);
    await a.service.refreshEndpoints();
    a.service.collectGarbage();
    await waitFor(() => handedBack.length === 3, 'frames handed back', 3_000);
    expect(handedBack).toEqual(['u@example.com-1', 'u@example.com-2', 'u@example.com-3']);
  });

  it('hands back what it held for a node down for unreachableAfterMs, refuses sends to it meanwhile, and takes it back when it returns', async () => {
    const source = new MemoryEndpointSource();
    const b = await node({ localHost: DC2, node: 'b' });
    source.set(DC2, [b.endpoint]);
    const a = await node({
      localHost: DC1,
      node: 'a',
      source,
      options: { unreachableAfterMs: 300, backoff: { initialMs: 50, maxMs: 200 } },
    });
    const handedBack: string[] = [];
    a.service.onUndeliverable((each) => handedBack.push(each.stanzaId));
    await a.service.send({ localHost: DC2, node: 'b' }, envelope('u@example.com', 0));
    await waitFor(() => b.received.length === 1, 'first frame');

    // b dies and its endpoint stays known (a crash: its heartbeat has not expired yet).
    const port = b.address.port;
    await b.close();
    started = started.filter((each) => each !== b);
    const downAt = Date.now();
    for (const n of [1, 2, 3]) {
      await a.service.send({ localHost: DC2, node: 'b' }, envelope('u@example.com', n));
    }
    await waitFor(() => handedBack.length === 3, 'frames handed back', 3_000);
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(250);
    expect(handedBack).toEqual(['u@example.com-1', 'u@example.com-2', 'u@example.com-3']);
    const refused = await failureOf(
      a.service.send({ localHost: DC2, node: 'b' }, envelope('u@example.com', 4)),
    );
    expect(refused.reason).toBe('unreachable');

    // Back on its port: the link reconnects by itself and sends are taken again.
    const back = await node({ localHost: DC2, node: 'b', port });
    await waitFor(
      () => a.service.destinationsInUse().some((each) => each.connections > 0),
      'a link again',
    );
    await waitFor(
      () => {
        void a.service
          .send({ localHost: DC2, node: 'b' }, envelope('u@example.com', 5))
          .catch(() => undefined);
        return back.received.length > 0;
      },
      'sends taken again',
      5_000,
    );
  });

  it('moves the senders of an endpoint that stays down to the others, with what it held', async () => {
    const { a, b1, b2, senders } = await twoEndpointsAfterARound(60, { unreachableAfterMs: 300 });
    const onB2 = senders.b2;
    expect(onB2.length).toBeGreaterThan(0);

    // b2 dies; its endpoint stays in the source. What its senders send is held, then moves.
    await b2.close();
    started = started.filter((each) => each !== b2);
    await sleep(50);
    await Promise.all(
      onB2.map((sender) => a.service.send({ localHost: DC2 }, envelope(sender, 1))),
    );
    await waitFor(
      () =>
        b1.received.filter(({ envelope: each }) => onB2.includes(each.senderKey)).length ===
        onB2.length,
      'held frames on b1',
      3_000,
    );
    // And new sends of those senders go to b1 at once while b2 stays down.
    await Promise.all(
      onB2.map((sender) => a.service.send({ localHost: DC2 }, envelope(sender, 2))),
    );
    await waitFor(
      () =>
        b1.received.filter(({ envelope: each }) => onB2.includes(each.senderKey)).length ===
        2 * onB2.length,
      'new frames on b1',
      1_000,
    );
    for (const sender of onB2) expect(sequenceOf(b1.received, sender)).toEqual([1, 2]);
  });

  it('holds sends while no endpoint is known and delivers them in order once one appears', async () => {
    const source = new MemoryEndpointSource();
    const a = await node({
      localHost: DC1,
      node: 'a',
      source,
      options: { endpointWaitPollMs: 50 },
    });
    let done = 0;
    const sends = range(50).map((n) =>
      a.service.send({ localHost: DC2 }, envelope('early@example.com', n)).then(() => done++),
    );
    await sleep(400);
    expect(done).toBe(0);

    const b = await node({ localHost: DC2, node: 'b' });
    const appearedAt = Date.now();
    source.set(DC2, [b.endpoint]);
    await Promise.all(sends);
    // Polled at the waiting pace, not at the 3 s clean-start interval.
    expect(Date.now() - appearedAt).toBeLessThan(1_000);
    await waitFor(() => b.received.length === 50, 'the held frames');
    expect(sequenceOf(b.received, 'early@example.com')).toEqual(range(50));
  });

  it('rejects a send with reason no-endpoint when none appears within the send timeout', async () => {
    const a = await node({ localHost: DC1, node: 'a', options: { sendTimeoutMs: 300 } });
    const startedAt = Date.now();
    const error = await a.service
      .send({ localHost: 'dc9.example.com' }, envelope('x@example.com', 0))
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InterlinkSendError);
    expect((error as InterlinkSendError).reason).toBe('no-endpoint');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(250);
  });

  it('dials the endpoint overrides of a datacenter instead of its endpoints in the source', async () => {
    const source = new MemoryEndpointSource();
    const b = await node({ localHost: DC2, node: 'b' });
    const decoy = await node({ localHost: DC2, node: 'decoy' });
    source.set(DC2, [decoy.endpoint]);
    const withOverride = (config: Parameters<NonNullable<NodeSpec['config']>>[0]) => {
      config.endpointOverrides = { [DC2]: [{ host: '127.0.0.1', port: b.address.port }] };
    };
    const a = await node({ localHost: DC1, node: 'a', source, config: withOverride });
    await Promise.all(
      range(50).map((i) => a.service.send({ localHost: DC2 }, envelope(`u${i}@x`, 0))),
    );
    await waitFor(() => b.received.length === 50, 'frames on the override');
    expect(decoy.received).toHaveLength(0);

    // A revision without the override takes effect at once: the source's endpoints again.
    a.service.applyConfig(testConfig());
    await waitFor(
      () => a.service.destinationsInUse()[0].active[0] === `127.0.0.1:${decoy.address.port}`,
      'refresh',
    );
    await Promise.all(
      range(50).map((i) => a.service.send({ localHost: DC2 }, envelope(`u${i}@x`, 1))),
    );
    await waitFor(() => decoy.received.length === 50, 'frames on the source endpoint');
  });

  it('sends to one node of our own datacenter, and leaves itself out of a datacenter-wide send', async () => {
    const source = new MemoryEndpointSource();
    const a2 = await node({ localHost: DC1, node: 'a2' });
    const a3 = await node({ localHost: DC1, node: 'a3' });
    const a1 = await node({ localHost: DC1, node: 'a1', source });
    source.set(DC1, [a1.endpoint, a2.endpoint, a3.endpoint]);
    await a1.service.send({ localHost: DC1, node: 'a3' }, envelope('s@x', 0, { targetNode: 'a3' }));
    await waitFor(() => a3.received.length === 1, 'the node-targeted frame');
    expect(a3.received[0].envelope.targetNode).toBe('a3');
    expect(a2.received).toHaveLength(0);

    await Promise.all(
      range(60).map((i) => a1.service.send({ localHost: DC1 }, envelope(`u${i}@x`, 0))),
    );
    await waitFor(() => a2.received.length + a3.received.length === 61, 'datacenter-wide frames');
    expect(a1.received).toHaveLength(0);
  });
});

describe('interlink reconnects', () => {
  it('reconnects with backoff after the peer restarts, and delivery resumes', async () => {
    // Back well before the link would count as unreachable: the frames wait for it.
    const { a, b } = await pair({
      options: { backoff: { initialMs: 100, maxMs: 400 }, unreachableAfterMs: 30_000 },
    });
    await Promise.all(
      range(100).map((n) => a.service.send({ localHost: DC2 }, envelope('s@x', n))),
    );
    await waitFor(() => b.received.length === 100, 'before the restart');
    const port = b.address.port;

    await b.close();
    started = started.filter((each) => each !== b);
    await waitFor(() => a.service.destinationsInUse()[0].queuedFrames === 0, 'nothing queued');
    await sleep(100); // let a notice the close
    const sends = range(100).map((i) =>
      a.service.send({ localHost: DC2 }, envelope('s@x', 100 + i)),
    );
    await sleep(1_500);
    const refused = await metric(a.registry, 'meridian_gd_outgoing_errored_total', { host: DC2 });
    // Backoff: a handful of attempts in 1.5 s (100, 200, 400, 400... ms steps), not a tight loop.
    expect(refused).toBeGreaterThanOrEqual(2);
    expect(refused).toBeLessThanOrEqual(12);

    const restarted = await node({ localHost: DC2, node: 'b', port });
    await Promise.all(sends);
    await waitFor(() => restarted.received.length === 100, 'after the restart');
    expect(sequenceOf(restarted.received, 's@x')).toEqual(range(100).map((n) => 100 + n));
    expect(await metric(a.registry, 'meridian_gd_outgoing_established_total', { host: DC2 })).toBe(
      2,
    );
    expect(await metric(a.registry, 'meridian_gd_outgoing_closed_total', { host: DC2 })).toBe(1);
  });
});

describe('interlink listener and bad input', () => {
  it('closes links that send oversize frames, garbage, no hello or a stanza first, and serves the others', async () => {
    const { a, b } = await pair(
      {},
      {
        config: (config) => {
          config.limits.maxStanzaBytes = 2048;
        },
        options: { helloTimeoutMs: 300 },
      },
    );
    await Promise.all(
      range(10).map((n) => a.service.send({ localHost: DC2 }, envelope('good@x', n))),
    );
    await waitFor(() => b.received.length === 10, 'the good link');
    const port = b.address.port;
    const hello = encodeHelloFrame({ localHost: 'dc3.example.com', node: 'evil' });

    const oversize = await rawConnect(port);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(2048 + 8192 + 1);
    oversize.write(Buffer.concat([hello, prefix]));
    expect(await closedWithin(oversize, 2_000)).toBe(true);

    const bigStanza = await rawConnect(port);
    bigStanza.write(
      Buffer.concat([hello, encodeStanzaFrame(envelope('e@x', 0, { stanza: 'z'.repeat(2049) }))]),
    );
    expect(await closedWithin(bigStanza, 2_000)).toBe(true);

    const garbage = await rawConnect(port);
    garbage.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(await closedWithin(garbage, 2_000)).toBe(true);

    const silent = await rawConnect(port);
    expect(await closedWithin(silent, 2_000)).toBe(true);

    const noHello = await rawConnect(port);
    noHello.write(encodeStanzaFrame(envelope('e@x', 0)));
    expect(await closedWithin(noHello, 2_000)).toBe(true);

    expect(await metric(b.registry, 'meridian_gd_incoming_errored_total')).toBe(5);
    expect(b.received.every(({ peer }) => peer.node === 'a')).toBe(true);
    await Promise.all(
      range(10).map((n) => a.service.send({ localHost: DC2 }, envelope('good@x', 10 + n))),
    );
    await waitFor(() => b.received.length === 20, 'the good link after the attacks');
    expect(sequenceOf(b.received, 'good@x')).toEqual(range(20));
    expect(await metric(b.registry, 'meridian_gd_incoming_established_total')).toBe(6);
  });

  it('refuses to frame what the peer would refuse, without touching the link', async () => {
    const { a, b } = await pair({ config: (config) => (config.limits.maxStanzaBytes = 1024) });
    const error = await failureOf(
      a.service.send({ localHost: DC2 }, envelope('s@x', 0, { stanza: 'x'.repeat(1025) })),
    );
    expect(error.reason).toBe('invalid');
    expect(error.message).toMatch(/over limits.maxStanzaBytes \(1024\)/);
    const bad = await failureOf(
      a.service.send({ localHost: DC2 }, envelope('s@x', 0, { ttl: 300 })),
    );
    expect(bad.reason).toBe('invalid');
    await a.service.send({ localHost: DC2 }, envelope('s@x', 1));
    await waitFor(() => b.received.length === 1, 'the good frame');
  });
});

describe('interlink reconfiguration and shutdown', () => {
  it('rebuilds pools for a new connectionsPerEndpoint by draining the old ones, losing nothing', async () => {
    const { a, b } = await pair();
    const senders = range(50).map((i) => `u${i}@x`);
    const sends: Promise<void>[] = [];
    for (const n of range(40)) {
      for (const sender of senders)
        sends.push(a.service.send({ localHost: DC2 }, envelope(sender, n)));
      if (n === 20) {
        a.service.applyConfig(
          testConfig((config) => (config.connections.connectionsPerEndpoint = 4)),
        );
      }
      if (n % 5 === 0) await sleep(5);
    }
    await Promise.all(sends);
    await waitFor(() => b.received.length === 2000, 'every frame');
    await waitFor(() => a.service.destinationsInUse()[0].retiring === 0, 'the old pool closed');
    expect(a.service.destinationsInUse()[0].connections).toBe(4);
    expect(await metric(a.registry, 'meridian_gd_outgoing_closed_total', { host: DC2 })).toBe(1);
    for (const sender of senders) expect(new Set(sequenceOf(b.received, sender)).size).toBe(40);
  });

  it('close() writes what is queued before closing the sockets', async () => {
    const { a, b } = await pair();
    const sends = range(500).map((n) => a.service.send({ localHost: DC2 }, envelope('last@x', n)));
    await Promise.all(sends);
    await a.close();
    await waitFor(() => b.received.length === 500, 'the flushed frames');
    expect(sequenceOf(b.received, 'last@x')).toEqual(range(500));
    const error = await failureOf(a.service.send({ localHost: DC2 }, envelope('late@x', 0)));
    expect(error.reason).toBe('closed');
  });

  it('holds received stanzas until a handler is set, then handles them in order', async () => {
    const source = new MemoryEndpointSource();
    const b = await node({ localHost: DC2, node: 'b', noHandler: true });
    source.set(DC2, [b.endpoint]);
    const a = await node({ localHost: DC1, node: 'a', source });
    await Promise.all(range(5).map((n) => a.service.send({ localHost: DC2 }, envelope('h@x', n))));
    await waitFor(() => b.service.incoming.pendingStanzas === 5, 'the frames to arrive');
    await sleep(100);
    expect(b.received).toHaveLength(0);

    const seen: number[] = [];
    b.service.setHandler(async (each) => {
      seen.push(Number(each.stanzaId.split('-').pop()));
    });
    await waitFor(() => seen.length === 5, 'the frames handled');
    expect(seen).toEqual(range(5));
    expect(b.service.incoming.pendingStanzas).toBe(0);
  });
});
