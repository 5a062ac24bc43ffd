// A real netsplit between two datacenters: each router runs as its own process in a Linux
// network namespace, the interlink runs over veth pairs through a third namespace (the WAN),
// and the test cuts and heals it with `ip link set ... down/up`. Needs root (skipped otherwise).
//
// Topology (K chosen per run, checked unused in the root namespace):
//
//   root ns: the test, its clients, a private redis-server (127.0.0.1, .17, .25)
//     front veth  10.231.K.1  <-> dc1 10.231.K.2   c2s and health probes
//     front veth  10.231.K.9  <-> dc2 10.231.K.10
//     redis veth  10.231.K.17 <-> dc1 10.231.K.18  dc1's Redis traffic
//     redis veth  10.231.K.25 <-> dc2 10.231.K.26  dc2's Redis traffic
//   dc1 10.231.K.33 <-> .34 wan .42 <-> 10.231.K.41 dc2   interlink only, 50 ms each way
//
// The WAN namespace forwards between the datacenters; a cut takes down its end towards dc2.
// dc1's packets then leave dc1 and vanish on the way, as in a real split; a veth straight
// between dc1 and dc2 would make the loss local to dc1 (no carrier), where TCP never counts
// retransmissions as failed and so never gives up.
//
// Redis is shared, as Dynomite replication would present it. Its traffic has a veth pair of its
// own so that a datacenter can be cut from Redis while its clients stay connected: in a real
// split dc2's users keep their sessions at dc2, and only replication and the links stop.
// The long cut therefore takes the WAN towards dc2 AND dc2's Redis link down. The shared Redis
// then plays dc1's replica: nothing refreshes bob's entries, they expire after expireAfterS, and
// dc1 answers alice's messages with service-unavailable. Cutting the interlink alone would leave
// bob's entries refreshed by dc2 (Redis still reachable), so they would never expire. After the
// heal dc2's refresher rewrites them and alice reaches bob again.
//
// The 50 ms delay is `tc netem` on the WAN's two ends; on a kernel without netem a small
// delaying relay in each datacenter namespace (on the interlink address, in front of the
// router's interlink listener on loopback) adds it instead. The cut is the veth either way.
// NETSPLIT_DEBUG=1 prints the routers' logs (info level) at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import Redis from 'ioredis';
import type { Element } from 'ltx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestRedis } from '../support/redis';
import { freePort, publishRevision, until } from '../support/router-cluster';
import { testTls } from '../support/test-tls';
import { XmppTestClient } from '../support/xmpp-client';
import { BOUNCE_BUDGET_MS, EXPIRE_AFTER_S, faultConfig } from '../support/fault-config';

const MAIN = 'dist/apps/router/src/main.js';
const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const ALICE = 'alice@example.com/a';
const BOB = 'bob@example.com/b';
const DELAY_MS = 50;
const SHORT_CUT_MS = 2_000;
/** Slack for a loaded machine on top of the bounce budget. */
const SLACK_MS = 4_000;

const tag = String(process.pid);
const ns = { dc1: `mrdn${tag}dc1`, dc2: `mrdn${tag}dc2`, wan: `mrdn${tag}wan` };
const dev = {
  front1: [`mr${tag}f1r`, `mr${tag}f1n`],
  front2: [`mr${tag}f2r`, `mr${tag}f2n`],
  redis1: [`mr${tag}r1r`, `mr${tag}r1n`],
  redis2: [`mr${tag}r2r`, `mr${tag}r2n`],
  wan1: [`mr${tag}i1`, `mr${tag}w1`],
  wan2: [`mr${tag}i2`, `mr${tag}w2`],
} as const;

/** Whether namespaces can be made here, and whether the kernel has netem. */
function probe(): { ok: true; netem: boolean } | { ok: false; reason: string } {
  const name = `mrdn${tag}probe`;
  const added = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (added.error || added.status !== 0) {
    return {
      ok: false,
      reason: `cannot create a network namespace (${(added.error?.message ?? added.stderr).trim()}); run as root`,
    };
  }
  const netem = spawnSync('tc', `-n ${name} qdisc add dev lo root netem delay 1ms`.split(' '));
  spawnSync('ip', ['netns', 'del', name]);
  return { ok: true, netem: netem.status === 0 };
}

const capability = probe();
if (!capability.ok) console.warn(`netsplit tests skipped: ${capability.reason}`);

function run(cmd: string, ...args: string[]): string {
  const result = spawnSync(cmd, args, { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')}: ${(result.error?.message ?? result.stderr).trim()}`);
  }
  return result.stdout;
}

/** A /24 under 10.231/16 that nothing in the root namespace uses yet. */
function pickSubnet(): number {
  const used = run('ip', '-4', 'addr') + run('ip', '-4', 'route');
  for (let i = 0; i < 250; i++) {
    const k = 1 + ((process.pid + i) % 250);
    if (!used.includes(`10.231.${k}.`)) return k;
  }
  throw new Error('no free 10.231.x.0/24');
}

function sh(line: string): string {
  const [cmd, ...args] = line.split(' ');
  return run(cmd!, ...args);
}

/** Reads, or sets, a /proc/sys value inside a namespace (no sysctl binary needed). */
function sysctl(namespace: string, key: string, value?: string): string {
  const file = `/proc/sys/${key}`;
  const script = value === undefined ? `cat ${file}` : `echo ${value} > ${file}`;
  return run('ip', 'netns', 'exec', namespace, 'sh', '-c', script).trim();
}

function removeNamespaces(): void {
  // A namespace outlives `ip netns del` while sockets still hold it (orphaned TCP connections
  // retransmitting): delete the root-side veth ends too, which takes their peers with them.
  for (const [rootEnd] of [dev.front1, dev.front2, dev.redis1, dev.redis2]) {
    spawnSync('ip', ['link', 'del', rootEnd]);
  }
  for (const name of Object.values(ns)) spawnSync('ip', ['netns', 'del', name]);
}

// Delays every chunk by DELAY_MS each way, in order; for kernels without netem.
const RELAY = `
const net = require('node:net');
const [host, port, toHost, toPort, delay] = process.argv.slice(1);
const later = (fn) => setTimeout(fn, Number(delay));
net.createServer((a) => {
  const b = net.connect(Number(toPort), toHost);
  for (const [from, to] of [[a, b], [b, a]]) {
    from.on('data', (chunk) => later(() => to.destroyed || to.write(chunk)));
    from.on('end', () => later(() => to.end()));
    from.on('error', () => later(() => to.destroy()));
    from.on('close', () => later(() => to.destroy()));
  }
}).listen(Number(port), host, () => console.log('ready'));
`;

/** meridian_gd_outgoing_closed_total{host} of the router whose front address is given. */
async function outgoingClosed(front: string, host: string): Promise<number> {
  const text = await (await fetch(`http://${front}:5280/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith('meridian_gd_outgoing_closed_total{') && l.includes(`host="${host}"`),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

interface Sent {
  readonly id: string;
  readonly body: string;
  readonly at: number;
}

describe.skipIf(!capability.ok)('netsplit between two datacenters (network namespaces)', () => {
  const netem = capability.ok && capability.netem;
  const children: ChildProcess[] = [];
  const clients: XmppTestClient[] = [];
  let k = 0;
  let redisClient: Redis | null = null;
  let alice: XmppTestClient;
  let bob: XmppTestClient;
  const addr = (host: number) => `10.231.${k}.${host}`;
  /** Arrival times by body (bob) and error arrival times by id (alice). */
  const arrivedAt = new Map<string, number>();
  const erroredAt = new Map<string, Element>();
  const errorTimes = new Map<string, number>();
  const sent: Sent[] = [];
  const figures: Record<string, string | number> = {};
  const onExit = () => removeNamespaces();

  function spawnIn(namespace: string, args: string[], env: Record<string, string>): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', namespace, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    if (process.env.NETSPLIT_DEBUG)
      child.once('exit', () => console.log(`--- ${namespace} ${args[1]}\n${output}`));
    child.once('exit', (code, signal) => {
      if (code !== null && code !== 0)
        console.warn(`${args.join(' ')} in ${namespace} exited ${code} ${signal ?? ''}\n${output}`);
    });
    children.push(child);
    return child;
  }

  async function send(from: XmppTestClient, to: string, id: string, body: string): Promise<void> {
    if (from === alice) sent.push({ id, body, at: Date.now() });
    await from.message(to, body, { id });
  }

  const delivered = () => sent.filter((m) => arrivedAt.has(m.body));
  const errored = () => sent.filter((m) => erroredAt.has(m.id));

  beforeAll(async () => {
    expect(existsSync(MAIN), 'run `npm run build` before the tests').toBe(true);
    process.once('exit', onExit);
    k = pickSubnet();
    for (const name of Object.values(ns)) {
      sh(`ip netns add ${name}`);
      sh(`ip -n ${name} link set lo up`);
    }
    const toRoot: [readonly [string, string], string, number, number][] = [
      [dev.front1, ns.dc1, 1, 2],
      [dev.front2, ns.dc2, 9, 10],
      [dev.redis1, ns.dc1, 17, 18],
      [dev.redis2, ns.dc2, 25, 26],
    ];
    for (const [[rootEnd, nsEnd], namespace, rootHost, nsHost] of toRoot) {
      sh(`ip link add ${rootEnd} type veth peer name ${nsEnd} netns ${namespace}`);
      sh(`ip addr add ${addr(rootHost)}/29 dev ${rootEnd}`);
      sh(`ip link set ${rootEnd} up`);
      sh(`ip -n ${namespace} addr add ${addr(nsHost)}/29 dev ${nsEnd}`);
      sh(`ip -n ${namespace} link set ${nsEnd} up`);
    }
    // The interlink: dc1 <-> wan <-> dc2, the wan namespace forwarding between them.
    const toWan: [readonly [string, string], string, number, number, number][] = [
      [dev.wan1, ns.dc1, 33, 34, 40],
      [dev.wan2, ns.dc2, 41, 42, 32],
    ];
    sysctl(ns.wan, 'net/ipv4/ip_forward', '1');
    for (const [[dcEnd, wanEnd], namespace, dcHost, wanHost, farNet] of toWan) {
      sh(`ip link add ${dcEnd} netns ${namespace} type veth peer name ${wanEnd} netns ${ns.wan}`);
      sh(`ip -n ${namespace} addr add ${addr(dcHost)}/29 dev ${dcEnd}`);
      sh(`ip -n ${ns.wan} addr add ${addr(wanHost)}/29 dev ${wanEnd}`);
      sh(`ip -n ${namespace} link set ${dcEnd} up`);
      sh(`ip -n ${ns.wan} link set ${wanEnd} up`);
      sh(`ip -n ${namespace} route add ${addr(farNet)}/29 via ${addr(wanHost)}`);
      if (netem) sh(`tc -n ${ns.wan} qdisc add dev ${wanEnd} root netem delay ${DELAY_MS}ms`);
    }
    const redisPort = await freePort();
    const redisServer = spawn(
      'redis-server',
      [
        '--port',
        String(redisPort),
        '--bind',
        `127.0.0.1 ${addr(17)} ${addr(25)}`,
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
      ],
      { stdio: 'ignore' },
    );
    children.push(redisServer);
    redisClient = new Redis(`redis://127.0.0.1:${redisPort}/0`, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
    });
    redisClient.on('error', () => undefined);
    await until(
      async () =>
        await redisClient!.connect().then(
          () => true,
          () => false,
        ),
      10_000,
      'redis-server up',
    );
    const redis = { client: redisClient } as unknown as TestRedis; // publishRevision uses the client only

    const config = faultConfig([DC1, DC2]);
    await publishRevision(redis, 1, config);

    const tls = testTls();
    const dcs = [
      { localHost: DC1, namespace: ns.dc1, redisVia: 17, interlink: 33 },
      { localHost: DC2, namespace: ns.dc2, redisVia: 25, interlink: 41 },
    ];
    for (const dc of dcs) {
      // With netem the router listens on the interlink address itself; otherwise the relay does
      // and the router listens on the namespace's loopback behind it.
      const listen = netem ? `${addr(dc.interlink)}:5555` : '127.0.0.1:5555';
      if (!netem) {
        spawnIn(
          dc.namespace,
          [
            process.execPath,
            '-e',
            RELAY,
            addr(dc.interlink),
            '5556',
            '127.0.0.1',
            '5555',
            String(DELAY_MS),
          ],
          {},
        );
      }
      spawnIn(dc.namespace, [process.execPath, MAIN], {
        MERIDIAN_LOCAL_HOST: dc.localHost,
        MERIDIAN_NODE: 'n1',
        REDIS_URL: `redis://${addr(dc.redisVia)}:${redisPort}/0`,
        C2S_PORT: '5222',
        HTTP_PORT: '5280',
        COMPONENT_PORT: '5347',
        INTERLINK_LISTEN: listen,
        INTERLINK_ADVERTISE: netem ? listen : `${addr(dc.interlink)}:5556`,
        TLS_CERT: tls.certFile,
        TLS_KEY: tls.keyFile,
        TLS_CA: tls.caFile,
        CONFIG_BOOT_TIMEOUT_MS: '10000',
        LOG_LEVEL: process.env.NETSPLIT_DEBUG ? 'info' : 'warn',
      });
    }
    for (const front of [2, 10]) {
      await until(
        async () =>
          (await fetch(`http://${addr(front)}:5280/health/ready`).catch(() => null))?.status ===
          200,
        30_000,
        `router at ${addr(front)} ready`,
      );
    }

    alice = await XmppTestClient.connect({
      service: `xmpp://${addr(2)}:5222`,
      username: 'alice',
      resource: 'a',
    });
    bob = await XmppTestClient.connect({
      service: `xmpp://${addr(10)}:5222`,
      username: 'bob',
      resource: 'b',
    });
    clients.push(alice, bob);
    for (const client of clients) {
      client.xmpp.on('stanza', (stanza: Element) => {
        if (stanza.name !== 'message') return;
        if (stanza.attrs.type === 'error') {
          erroredAt.set(String(stanza.attrs.id), stanza);
          errorTimes.set(String(stanza.attrs.id), Date.now());
        } else {
          arrivedAt.set(stanza.getChildText('body') ?? '', Date.now());
        }
      });
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    redisClient?.disconnect();
    removeNamespaces();
    process.removeListener('exit', onExit);
    if (Object.keys(figures).length > 0) {
      console.log(
        `netsplit figures: ${Object.entries(figures)
          .map(([key, value]) => `${key}=${value}`)
          .join(' ')}`,
      );
    }
  });

  it('carries chat both ways over the delayed interlink', async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const out = `base a->b ${i}`;
      await send(alice, BOB, `base-a-${i}`, out);
      await until(() => arrivedAt.has(out), 10_000, out);
      latencies.push(arrivedAt.get(out)! - sent.at(-1)!.at);
      const back = `base b->a ${i}`;
      const started = Date.now();
      await send(bob, ALICE, `base-b-${i}`, back);
      await until(() => arrivedAt.has(back), 10_000, back);
      latencies.push(arrivedAt.get(back)! - started);
    }
    figures.delay = netem ? 'netem' : 'relay';
    figures.baselineMinMs = Math.min(...latencies);
    figures.baselineMaxMs = Math.max(...latencies);
    expect(Math.min(...latencies)).toBeGreaterThanOrEqual(DELAY_MS);
    expect(errored()).toEqual([]);
  });

  it('delivers what was sent during a short cut after the heal, in order, none lost', async () => {
    const ids = [0, 1, 2, 3, 4].map((i) => `short-${i}`);
    const closedBefore = await outgoingClosed(addr(2), DC2);
    sh(`ip -n ${ns.wan} link set ${dev.wan2[1]} down`);
    const cutAt = Date.now();
    for (const id of ids) {
      await send(alice, BOB, id, id);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, cutAt + SHORT_CUT_MS - Date.now())),
    );
    sh(`ip -n ${ns.wan} link set ${dev.wan2[1]} up`);
    const healAt = Date.now();
    figures.shortCutMs = healAt - cutAt;
    await until(
      () => ids.every((id) => arrivedAt.has(id) || erroredAt.has(id)),
      30_000,
      'short-cut messages settled',
    );
    figures.shortSent = ids.length;
    figures.shortDelivered = ids.filter((id) => arrivedAt.has(id)).length;
    figures.shortRecoverMs = Math.max(...ids.map((id) => arrivedAt.get(id) ?? 0)) - healAt;
    // TCP carried the link through the cut: it was not closed and reopened.
    figures.shortLinksClosed = (await outgoingClosed(addr(2), DC2)) - closedBefore;
    expect(ids.filter((id) => erroredAt.has(id))).toEqual([]);
    expect(bob.bodies().filter((body) => body.startsWith('short-'))).toEqual(ids);
  });

  it('errors what alice sends once bob has expired during a long cut, and reaches him again after the heal', async () => {
    const bobEntry = () => redisClient!.get(BOB);
    expect(await bobEntry()).toBe(DC2);
    // dc2 loses the interlink and Redis; bob stays connected to dc2 through its front link.
    sh(`ip -n ${ns.wan} link set ${dev.wan2[1]} down`);
    sh(`ip -n ${ns.dc2} link set ${dev.redis2[1]} down`);
    const cutAt = Date.now();
    // Sent while bob's entries still name dc2: it goes into the dead link, where TCP keeps it
    // until the heal (the link is retired meanwhile, its endpoint gone with dc2's heartbeat).
    await send(alice, BOB, 'long-0', 'long-0');
    await until(
      async () =>
        (await bobEntry()) === null && (await redisClient!.get('bob@example.com')) === null,
      EXPIRE_AFTER_S * 1000 + 15_000,
      "bob's entries expired",
    );
    figures.expiredAfterCutMs = Date.now() - cutAt;

    const ids = [1, 2, 3, 4].map((i) => `long-${i}`);
    for (const id of ids) {
      await send(alice, BOB, id, id);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await until(
      () => ids.every((id) => erroredAt.has(id)),
      BOUNCE_BUDGET_MS + SLACK_MS + 5_000,
      'errors for the long-cut messages',
    );
    const errorDelays = ids.map((id) => errorTimes.get(id)! - sent.find((m) => m.id === id)!.at);
    figures.longErrorMaxMs = Math.max(...errorDelays);
    for (const id of ids) {
      const error = erroredAt.get(id)!;
      expect(error.attrs.from).toBe(BOB);
      expect(error.getChild('error')?.attrs.type).toBe('cancel');
      expect(error.getChild('error')?.getChild('service-unavailable')).toBeDefined();
      expect(arrivedAt.has(id)).toBe(false);
    }
    expect(Math.max(...errorDelays)).toBeLessThanOrEqual(BOUNCE_BUDGET_MS + SLACK_MS);
    // Longer than expiry plus the bounce budget, whatever the machine's speed.
    const minimum = EXPIRE_AFTER_S * 1000 + BOUNCE_BUDGET_MS;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + minimum - Date.now())));
    expect(bob.online).toBe(true);

    sh(`ip -n ${ns.dc2} link set ${dev.redis2[1]} up`);
    sh(`ip -n ${ns.wan} link set ${dev.wan2[1]} up`);
    const healAt = Date.now();
    figures.longCutMs = healAt - cutAt;
    let probes = 0;
    const reached = () => sent.some((m) => m.id.startsWith('probe-') && arrivedAt.has(m.body));
    while (!reached()) {
      if (Date.now() - healAt > 45_000)
        throw new Error('alice did not reach bob within 45 s of the heal');
      if (probes === 0 || Date.now() - sent.at(-1)!.at >= 500) {
        await send(alice, BOB, `probe-${probes}`, `probe-${probes}`);
        probes++;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    figures.longRecoverMs =
      Math.min(
        ...sent
          .filter((m) => arrivedAt.has(m.body) && m.id.startsWith('probe-'))
          .map((m) => arrivedAt.get(m.body)!),
      ) - healAt;
    expect(await bobEntry()).toBe(DC2);
    // And the way back.
    await send(bob, ALICE, 'reply', 'reply after heal');
    await until(() => arrivedAt.has('reply after heal'), 10_000, 'bob -> alice after the heal');

    // Every message alice sent ends delivered or errored: nothing is silent.
    await until(
      () => sent.every((m) => arrivedAt.has(m.body) || erroredAt.has(m.id)),
      30_000,
      'every message delivered or errored',
    );
    figures.long0 = arrivedAt.has('long-0')
      ? `delivered+${arrivedAt.get('long-0')! - healAt}`
      : 'errored';
    figures.sent = sent.length;
    figures.delivered = delivered().length;
    figures.errored = errored().length;
    expect(delivered().length + errored().length).toBe(sent.length);
    expect(delivered().filter((m) => erroredAt.has(m.id))).toEqual([]);
  });

  // When TCP gives up on a dead link (tcp_retries2: about 15 minutes by default, 3 s here),
  // what it had written and the peer had not acknowledged is put back at the head of the
  // queue and written again once a link is back: delivered after the heal, first, in order.
  it('writes again, after the heal, what a link held when TCP gave up on it', async () => {
    const retries = sysctl(ns.dc1, 'net/ipv4/tcp_retries2');
    sysctl(ns.dc1, 'net/ipv4/tcp_retries2', '3');
    const closedBefore = await outgoingClosed(addr(2), DC2);
    sh(`ip -n ${ns.wan} link set ${dev.wan2[1]} down`);
    try {
      await send(alice, BOB, 'gave-up-0', 'gave-up-0');
      await until(
        async () => (await outgoingClosed(addr(2), DC2)) > closedBefore,
        30_000,
        'dc1 gives up its link to dc2',
      );
    } finally {
      sh(`ip -n ${ns.wan} link set ${dev.wan2[1]} up`);
      sysctl(ns.dc1, 'net/ipv4/tcp_retries2', retries);
    }
    await send(alice, BOB, 'gave-up-1', 'gave-up-1');
    await until(() => arrivedAt.has('gave-up-1'), 30_000, 'the link back after the heal');
    figures.gaveUp0 = arrivedAt.has('gave-up-0')
      ? 'delivered'
      : erroredAt.has('gave-up-0')
        ? 'errored'
        : 'lost';
    expect(figures.gaveUp0, 'what the given-up link held').toBe('delivered');
    expect(arrivedAt.get('gave-up-0')!).toBeLessThanOrEqual(arrivedAt.get('gave-up-1')!);
  });
});
