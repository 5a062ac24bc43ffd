// Peers that misbehave on the interlink: one that accepts the link and never reads, one that
// stops half-way through a frame, and certificates that have expired. Nothing may be lost
// silently (every message is delivered or its sender gets an error), nothing may grow without
// bound, other links go on, and recovery needs no restart.
import { Logger, type LoggerService } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeHelloFrame, encodeStanzaFrame } from '#interlink';
import { RouterConfig } from '../../apps/router/src/config-sync/router-config';
import { InterlinkSendError, InterlinkService } from '../../apps/router/src/interlink';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { startCluster, until, type Cluster } from '../support/router-cluster';
import { fullJid, loginTimed, percentile } from '../support/timed-session';
import {
  envelope,
  makeCertificates,
  MemoryEndpointSource,
  metric,
  sequenceOf,
  sleep,
  startNode,
  testConfig,
  waitFor,
  type NodeSpec,
  type TestCertificates,
  type TestNode,
} from '../router/interlink-harness';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const DC3 = 'dc3.example.com';
const MB = 1024 * 1024;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const figures: Record<string, string | number> = {};

afterAll(() => {
  console.log(
    `[interlink-faults figures] ${Object.entries(figures)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
});

let started: TestNode[] = [];
async function node(spec: NodeSpec): Promise<TestNode> {
  const created = await startNode(spec);
  started.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(started.map((each) => each.close()));
  started = [];
});

/** Heap plus buffers (queued frames are Buffers, outside the heap). */
const memoryMb = () => {
  const usage = process.memoryUsage();
  return Math.round((usage.heapUsed + usage.arrayBuffers) / MB);
};

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('a peer that accepts the link and never reads', () => {
  let cluster: Cluster;
  let proxy: FaultProxy;

  beforeAll(async () => {
    cluster = await startCluster({ [DC1]: ['n1'], [DC2]: ['n1'], [DC3]: ['n1'] }, (doc) => {
      doc.cache = { ...doc.cache, jidLifetimeS: 60 };
      doc.bounce = { ...doc.bounce, resendAfterMs: 50, maxRetries: 1 };
      doc.limits = { ...doc.limits, maxStanzaBytes: 1024 * 1024 };
    });
    // dc1 reaches dc3 through a proxy that can stop reading, like a peer that never reads.
    proxy = await startFaultProxy('127.0.0.1', cluster.node(DC3).interlinkPort);
    const revision = await cluster.publish((doc) => {
      doc.endpointOverrides = { [DC3]: [{ host: '127.0.0.1', port: proxy.port }] };
    });
    await until(
      () => cluster.nodes.every((n) => n.app.get(RouterConfig).snapshot.revision === revision),
      10_000,
      'override applied',
    );
  });
  afterAll(async () => {
    await cluster?.close();
    await proxy?.close();
  });

  it('bounds the queues, answers what cannot be queued with errors, spares other links, and delivers the rest once it reads', async () => {
    const dc1 = cluster.node(DC1);
    const dc2 = cluster.node(DC2);
    const dc3 = cluster.node(DC3);
    const interlink = dc1.app.get(InterlinkService);
    const zed = await loginTimed(dc3, 'zed@example.com/z');
    const bea = await loginTimed(dc2, 'bea@example.com/b');
    const senders = await Promise.all(range(24).map((i) => loginTimed(dc1, `k${i}@example.com/k`)));
    const others = await Promise.all(range(3).map((i) => loginTimed(dc1, `o${i}@example.com/o`)));
    await sleep(300);
    // Routes cached and links open before the peer stops reading.
    await dc1.send(senders[0]!, fullJid(zed), 'warm');
    await dc1.send(others[0]!, fullJid(bea), 'warm');
    await zed.waitFor(1);
    await bea.waitFor(1);
    const memoryBefore = memoryMb();

    proxy.stall();
    const stalledAt = Date.now();
    // Other senders keep talking to dc2 over their own link.
    let running = true;
    const sentToBea = new Map<string, number>();
    const otherTraffic = others.map(async (o) => {
      for (let n = 0; running; n++) {
        const body = `${o.jid.local}-${n}`;
        sentToBea.set(body, Date.now());
        await dc1.send(o, fullJid(bea), body);
        await sleep(50);
      }
    });
    // 24 stanzas of 512 KiB for dc3: more than its queue (1 MiB) and the socket buffers hold.
    const big = 'x'.repeat(512 * 1024);
    const sentToZed = new Set<string>();
    const routed = senders.map((s, i) => {
      const body = `big-${i}-${big}`;
      sentToZed.add(`big-${i}`);
      return dc1.send(s, fullJid(zed), body);
    });
    let maxQueued = 0;
    let maxWaiting = 0;
    let maxMemory = 0;
    const sampler = setInterval(() => {
      const toDc3 = interlink.destinationsInUse().find((d) => d.label === DC3);
      maxQueued = Math.max(maxQueued, toDc3?.queuedFrames ?? 0);
      maxWaiting = Math.max(maxWaiting, toDc3?.waitingSends ?? 0);
      maxMemory = Math.max(maxMemory, memoryMb());
    }, 25);

    // send() itself waits while the queue is full, then rejects with `timeout`.
    await until(
      () => (interlink.destinationsInUse().find((d) => d.label === DC3)?.waitingSends ?? 0) > 0,
      20_000,
      'the queue to dc3 full',
    );
    const probeStarted = Date.now();
    const probe = await interlink
      .send(
        { localHost: DC3 },
        envelope('probe@example.com/p', 0, {
          stanza: `<message from='probe@example.com/p' to='zed@example.com/z'><body>${big}</body></message>`,
        }),
      )
      .then(
        () => null,
        (err: unknown) => err,
      );
    const probeWaitedMs = Date.now() - probeStarted;
    expect(probe).toBeInstanceOf(InterlinkSendError);
    expect((probe as InterlinkSendError).reason).toBe('timeout');
    expect(probeWaitedMs).toBeGreaterThanOrEqual(4_000);

    // Every big stanza is either queued for dc3 or answered with an error, none in limbo.
    await Promise.all(routed);
    const tag = (body: string) => /^big-\d+/.exec(body)?.[0] ?? body;
    const zedBodies = () => new Set(zed.bodies().map(tag));
    const errorsBack = () =>
      senders.flatMap((s) => s.errors()).map((e) => tag(e.getChildText('body') ?? ''));
    await until(
      () =>
        dc1.router.bounced === 0 &&
        (interlink.destinationsInUse().find((d) => d.label === DC3)?.waitingSends ?? 0) === 0,
      30_000,
      'the waiting sends to time out and their senders answered',
    );
    const errored = senders.filter((s) => s.errors().length > 0).length;
    const erroredAfterMs = Date.now() - stalledAt;
    expect(errored).toBeGreaterThan(0);
    expect(errored).toBeLessThan(senders.length);
    for (const e of senders.flatMap((s) => s.errors())) {
      expect(e.getChild('error')?.getChild('service-unavailable')).toBeTruthy();
    }
    expect(await dc1.metric('meridian_gd_bounce_failures_total', { reason: 'exhausted' })).toBe(
      errored,
    );

    // Meanwhile dc2 got everything, promptly.
    running = false;
    await Promise.all(otherTraffic);
    await until(() => bea.received.length - 1 === sentToBea.size, 10_000, 'dc2 traffic');
    const beaLatencies = bea.received
      .map((stanza, i) => {
        const at = sentToBea.get(stanza.getChildText('body') ?? '');
        return at === undefined ? null : bea.arrivals[i]! - at;
      })
      .filter((v): v is number => v !== null);
    expect(beaLatencies).toHaveLength(sentToBea.size);
    expect(percentile(beaLatencies, 95)).toBeLessThan(500);
    clearInterval(sampler);
    // Bounded: one link queue (1024 frames / 1 MiB, a single frame may exceed it), one waiting
    // send per sender (each sender's stanzas go one at a time), memory well under what was sent.
    expect(maxQueued).toBeLessThanOrEqual(1024);
    expect(maxWaiting).toBeLessThanOrEqual(senders.length + 1);
    expect(maxMemory - memoryBefore).toBeLessThan(200);

    // The peer reads again: what was queued arrives, nothing twice, nothing both ways.
    proxy.resume();
    const resumedAt = Date.now();
    await until(
      () => zed.received.length - 1 + errored === senders.length,
      20_000,
      'the queued stanzas delivered',
    );
    const deliveredAfterResumeMs = Date.now() - resumedAt;
    const delivered = zedBodies();
    delivered.delete('warm');
    expect(delivered.size).toBe(senders.length - errored);
    for (const e of errorsBack()) expect(delivered.has(e)).toBe(false);
    expect(new Set([...delivered, ...errorsBack()])).toEqual(sentToZed);
    // And the link carries new traffic without a restart.
    await dc1.send(senders[0]!, fullJid(zed), 'after');
    await until(() => zed.bodies().includes('after'), 10_000, 'new traffic after recovery');

    Object.assign(figures, {
      stallSent: senders.length + sentToBea.size,
      stallDelivered: delivered.size + beaLatencies.length,
      stallErrored: errored,
      erroredWithinMs: erroredAfterMs,
      sendTimeoutWaitMs: probeWaitedMs,
      maxQueuedFrames: maxQueued,
      maxWaitingSends: maxWaiting,
      otherLinkP95Ms: percentile(beaLatencies, 95),
      deliveredAfterResumeMs,
      memoryMb: `${memoryBefore}/${maxMemory}/${memoryMb()}`,
    });
  });
});

describe('a peer that sends half a frame and stalls', () => {
  it('closes that link after frameTimeoutMs, holding only that frame, while the others go on', async () => {
    const source = new MemoryEndpointSource();
    const b = await node({ localHost: DC2, node: 'b', options: { frameTimeoutMs: 1_000 } });
    source.set(DC2, [b.endpoint]);
    const a = await node({ localHost: DC1, node: 'a', source });
    await Promise.all(range(10).map((n) => a.service.send({ localHost: DC2 }, envelope('g@x', n))));
    await waitFor(() => b.received.length === 10, 'the good link');

    // Hello, then the first half of a stanza frame, then nothing; a second one stalls inside
    // the length prefix.
    const frame = encodeStanzaFrame(envelope('stall@x', 0, { stanza: 'y'.repeat(20_000) }));
    const hello = encodeHelloFrame({ localHost: 'dc3.example.com', node: 'stall' });
    const half = await rawConnect(b.address.port);
    half.write(Buffer.concat([hello, frame.subarray(0, frame.length / 2)]));
    const prefix = await rawConnect(b.address.port);
    prefix.write(Buffer.concat([hello, frame.subarray(0, 2)]));
    const closed = (socket: Socket) =>
      new Promise<number>((resolve) => {
        socket.on('error', () => undefined);
        socket.resume();
        socket.once('close', () => resolve(Date.now()));
      });
    const stalledAt = Date.now();
    const closing = Promise.all([closed(half), closed(prefix)]);
    await waitFor(() => b.service.incoming.links === 3, 'the stalled links accepted');

    // While they stall, the good link is served at once.
    await sleep(300);
    await Promise.all(
      range(10).map((n) => a.service.send({ localHost: DC2 }, envelope('g@x', 10 + n))),
    );
    await waitFor(() => b.received.length === 20, 'the good link during the stall', 2_000);
    expect(b.service.incoming.pendingStanzas).toBe(0);

    const closedAt = await closing;
    const detectedMs = Math.max(...closedAt) - stalledAt;
    expect(detectedMs).toBeGreaterThanOrEqual(900);
    expect(detectedMs).toBeLessThan(5_000);
    expect(await metric(b.registry, 'meridian_gd_incoming_errored_total')).toBe(2);
    await waitFor(() => b.service.incoming.links === 1, 'the stalled links forgotten', 2_000);
    expect(b.received.every(({ envelope: each }) => each.senderKey === 'g@x')).toBe(true);
    await Promise.all(
      range(10).map((n) => a.service.send({ localHost: DC2 }, envelope('g@x', 20 + n))),
    );
    await waitFor(() => b.received.length === 30, 'the good link after');
    expect(sequenceOf(b.received, 'g@x')).toEqual(range(30));
    figures.halfFrameClosedMs = detectedMs;
  });

  it('does not count the time a link is paused by its own backpressure', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const source = new MemoryEndpointSource();
    const b = await node({
      localHost: DC2,
      node: 'b',
      options: {
        frameTimeoutMs: 300,
        incoming: { maxInFlightFrames: 4, maxInFlightBytes: 1024 * 1024 },
      },
    });
    b.service.setHandler(async (each, peer) => {
      await gate;
      b.received.push({ envelope: each, peer });
    });
    source.set(DC2, [b.endpoint]);
    const a = await node({ localHost: DC1, node: 'a', source, options: { sendTimeoutMs: 30_000 } });
    const body = 'z'.repeat(30_000);
    const sends = range(400).map((n) =>
      a.service.send({ localHost: DC2 }, envelope('slow@x', n, { stanza: body })),
    );
    // The handler holds everything for several frame timeouts; the paused link stays up.
    await sleep(1_500);
    expect(b.service.incoming.links).toBe(1);
    release();
    await Promise.all(sends);
    await waitFor(() => b.received.length === 400, 'every frame after the pause', 20_000);
    expect(sequenceOf(b.received, 'slow@x')).toEqual(range(400));
    expect(await metric(b.registry, 'meridian_gd_incoming_errored_total')).toBe(0);
    expect(await metric(b.registry, 'meridian_gd_incoming_established_total')).toBe(1);
  });
});

describe('expired certificates on mutual-TLS links', () => {
  let certs: TestCertificates;
  let expired: { certFile: string; keyFile: string; caFile: string };
  const logged: string[] = [];
  const capture: LoggerService = {
    log: () => undefined,
    error: (...args: unknown[]) => logged.push(JSON.stringify(args)),
    warn: (...args: unknown[]) => logged.push(JSON.stringify(args)),
  };

  beforeAll(() => {
    certs = makeCertificates(['node-a', 'node-b']);
    expired = makeExpiredCertificate(certs.dir, 'expired');
    Logger.overrideLogger(capture);
  });
  afterAll(() => {
    Logger.overrideLogger(false);
    rmSync(certs.dir, { recursive: true, force: true });
  });

  it('refuses a client whose certificate has expired, logs and counts it, and takes it once renewed', async () => {
    const source = new MemoryEndpointSource();
    const b = await node({ localHost: DC2, node: 'b', tls: certs.node('node-b') });
    source.set(DC2, [b.endpoint]);
    // a's files are copies, so they can be renewed in place (a rotation).
    const aFiles = {
      certFile: join(certs.dir, 'a-live.crt'),
      keyFile: join(certs.dir, 'a-live.key'),
      caFile: expired.caFile,
    };
    copyFileSync(expired.certFile, aFiles.certFile);
    copyFileSync(expired.keyFile, aFiles.keyFile);
    const a = await node({
      localHost: DC1,
      node: 'a',
      source,
      tls: aFiles,
      // The old link, refused, hands its queue to the renewed one after this long.
      options: { backoff: { initialMs: 100, maxMs: 400 }, drainTimeoutMs: 1_000 },
    });
    logged.length = 0;
    const refusedAt = Date.now();
    await Promise.all(range(20).map((n) => a.service.send({ localHost: DC2 }, envelope('e@x', n))));
    await waitFor(
      () => logged.some((line) => line.includes('interlink TLS handshake refused')),
      'the refusal logged',
    );
    const detectedMs = Date.now() - refusedAt;
    await sleep(500);
    expect(b.received).toHaveLength(0);
    expect(await metric(b.registry, 'meridian_gd_incoming_established_total')).toBe(0);
    expect(await metric(b.registry, 'meridian_gd_incoming_errored_total')).toBeGreaterThan(0);
    const refusal = logged.find((line) => line.includes('interlink TLS handshake refused'));
    expect(refusal).toMatch(/expired/i);
    expect(await metric(a.registry, 'meridian_gd_outgoing_established_total', { host: DC2 })).toBe(
      0,
    );
    expect(
      await metric(a.registry, 'meridian_gd_outgoing_errored_total', { host: DC2 }),
    ).toBeGreaterThan(0);
    // The frames wait in a's queue (bounded); a renewed certificate and a new revision carry
    // them, without a restart.
    expect(a.service.destinationsInUse()[0]?.queuedFrames).toBe(20);
    copyFileSync(certs.node('node-a').certFile, aFiles.certFile);
    copyFileSync(certs.node('node-a').keyFile, aFiles.keyFile);
    const renewedAt = Date.now();
    a.service.applyConfig(testConfig(undefined, true));
    await waitFor(() => b.received.length === 20, 'the held frames after renewal', 20_000);
    expect(sequenceOf(b.received, 'e@x')).toEqual(range(20));
    figures.expiredClientRefusedMs = detectedMs;
    figures.renewedDeliveredMs = Date.now() - renewedAt;
  });

  it('does not connect to a server whose certificate has expired, and counts it', async () => {
    const source = new MemoryEndpointSource();
    const b = await node({ localHost: DC2, node: 'b', tls: expired });
    source.set(DC2, [b.endpoint]);
    const a = await node({
      localHost: DC1,
      node: 'a',
      source,
      tls: certs.node('node-a'),
      options: { backoff: { initialMs: 100, maxMs: 400 }, closeTimeoutMs: 500 },
    });
    logged.length = 0;
    const startedAt = Date.now();
    await a.service.send({ localHost: DC2 }, envelope('e@x', 0));
    await waitFor(
      () =>
        logged.some((line) => /interlink connection failed/.test(line) && /expired/i.test(line)),
      'the failure logged with its reason',
    );
    figures.expiredServerRefusedMs = Date.now() - startedAt;
    await sleep(500);
    expect(b.received).toHaveLength(0);
    // b may see its side of the handshake finish before a hangs up, but never a hello.
    expect(await metric(b.registry, 'meridian_gd_incoming_first_packet_total')).toBe(0);
    expect(await metric(a.registry, 'meridian_gd_outgoing_established_total', { host: DC2 })).toBe(
      0,
    );
    expect(
      await metric(a.registry, 'meridian_gd_outgoing_errored_total', { host: DC2 }),
    ).toBeGreaterThan(0);
  });
});

/**
 * A node certificate of the cluster CA valid from 1 to 2 January 2020, made with `openssl ca`
 * (its -startdate/-enddate set dates in the past, which `openssl x509 -req` cannot).
 */
function makeExpiredCertificate(
  dir: string,
  name: string,
): { certFile: string; keyFile: string; caFile: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  );
  writeFileSync(
    join(dir, 'expired-ca.cnf'),
    [
      '[ ca ]',
      'default_ca = test_ca',
      '[ test_ca ]',
      'database = expired-index.txt',
      'new_certs_dir = .',
      'serial = expired-serial',
      'default_md = sha256',
      'policy = policy_any',
      'x509_extensions = leaf_ext',
      'unique_subject = no',
      '[ policy_any ]',
      'commonName = supplied',
      '[ leaf_ext ]',
      'subjectAltName = IP:127.0.0.1',
      'extendedKeyUsage = serverAuth,clientAuth',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'expired-index.txt'), '');
  writeFileSync(join(dir, 'expired-serial'), '1000\n');
  openssl(
    'ca',
    '-batch',
    '-config',
    'expired-ca.cnf',
    '-cert',
    'cluster-ca.crt',
    '-keyfile',
    'cluster-ca.key',
    '-in',
    `${name}.csr`,
    '-out',
    `${name}.crt`,
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
    '-notext',
  );
  const dates = execFileSync('openssl', ['x509', '-in', `${name}.crt`, '-noout', '-enddate'], {
    cwd: dir,
  }).toString();
  if (!dates.includes('2020')) throw new Error(`unexpected certificate dates: ${dates}`);
  return {
    certFile: join(dir, `${name}.crt`),
    keyFile: join(dir, `${name}.key`),
    caFile: join(dir, 'cluster-ca.crt'),
  };
}
