// Wrong XEP-0114 handshakes are answered late, the delay growing per source address and per
// component domain, and only a few are checked at a time; a right handshake is answered at
// once. Raw sockets bind to distinct loopback addresses so each test's failures are counted
// apart.
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handshakeDigest } from '../../apps/router/src/components/handshake';
import {
  FAILED_AUTH_BASE_DELAY_MS,
  FAILED_AUTH_MAX_DELAY_MS,
} from '../../apps/router/src/c2s/connection-limits';
import {
  MAX_ATTEMPT_WAIT_MS,
  MAX_ATTEMPTS_IN_PROGRESS,
} from '../../apps/router/src/c2s/login-attempts';
import { ACCEPT_HEADER, componentPort } from '../support/component-peer';
import { startCluster, until, type Cluster } from '../support/router-cluster';

const DC1 = 'dc1.example.com';
const SECRET = 'component-secret-of-some-length';
const DOMAINS = Array.from({ length: 32 }, (_, i) => `svc${i}.example.com`);

let cluster: Cluster;
const sockets: Socket[] = [];

beforeAll(async () => {
  cluster = await startCluster({ [DC1]: ['n1'] }, (doc) => {
    doc.components = DOMAINS.map((domain) => ({ domain, secret: SECRET, hidden: false }));
  });
});

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

afterAll(async () => {
  await cluster?.close();
});

interface Answer {
  /** `<handshake/>`, or the stream error's condition. */
  readonly outcome: string;
  /** From the handshake sent to its answer (ms). */
  readonly ms: number;
}

interface OpenStream {
  /** Sends the handshake digest of `secret`. */
  send(secret: string): void;
  /** Waits for the answer to the handshake; `ms` from `since`. */
  answer(since: number): Promise<Answer>;
}

/** A stream for `domain` from `localAddress`, its header answered, no handshake sent yet. */
async function open(localAddress: string, domain: string): Promise<OpenStream> {
  const port = componentPort(cluster.node(DC1));
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
    s.once('error', reject);
  });
  sockets.push(socket);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.write(ACCEPT_HEADER(domain));
  await until(() => / id='([^']+)'/.test(text), 5_000, 'the stream header');
  const id = / id='([^']+)'/.exec(text)![1]!;
  const answered = () => text.includes('<handshake/>') || text.includes('</stream:error>');
  return {
    send: (secret) => socket.write(`<handshake>${handshakeDigest(id, secret)}</handshake>`),
    answer: async (since) => {
      await until(answered, 10_000, `an answer to the handshake for ${domain}`);
      const ms = performance.now() - since;
      const condition = /<stream:error><([a-z-]+)/.exec(text)?.[1];
      return { outcome: condition ?? '<handshake/>', ms };
    },
  };
}

/** One handshake for `domain` from `localAddress`, with the right secret or a wrong one. */
async function handshake(localAddress: string, domain: string, secret: string): Promise<Answer> {
  const stream = await open(localAddress, domain);
  const started = performance.now();
  stream.send(secret);
  return stream.answer(started);
}

describe('wrong component handshakes', () => {
  it('are answered not-authorized later each time from one address', async () => {
    const answers: Answer[] = [];
    // A different domain each time: only the address is the same.
    for (const domain of DOMAINS.slice(0, 4)) {
      answers.push(await handshake('127.0.0.91', domain, 'wrong-secret'));
    }
    expect(answers.map((a) => a.outcome)).toEqual(Array(4).fill('not-authorized'));
    // 100, 200, 400 and 800 ms (at least: a loaded machine only adds).
    const base = FAILED_AUTH_BASE_DELAY_MS;
    expect(answers[0]!.ms).toBeGreaterThanOrEqual(base - 5);
    expect(answers[1]!.ms).toBeGreaterThanOrEqual(2 * base - 5);
    expect(answers[2]!.ms).toBeGreaterThanOrEqual(4 * base - 5);
    expect(answers[3]!.ms).toBeGreaterThanOrEqual(8 * base - 5);
    expect(answers[3]!.ms).toBeGreaterThan(answers[0]!.ms);

    // A right handshake from the same address is not held back by those failures.
    const right = await handshake('127.0.0.91', DOMAINS[4]!, SECRET);
    expect(right.outcome).toBe('<handshake/>');
    expect(right.ms).toBeLessThan(base);
  });

  it('are answered later each time for one domain, from however many addresses', async () => {
    const domain = DOMAINS[5]!;
    const answers: Answer[] = [];
    for (let i = 0; i < 4; i++) {
      // A fresh address for every guess: only the domain is the same.
      answers.push(await handshake(`127.0.0.${101 + i}`, domain, `guess-${i}`));
    }
    expect(answers.map((a) => a.outcome)).toEqual(Array(4).fill('not-authorized'));
    expect(answers[3]!.ms).toBeGreaterThanOrEqual(8 * FAILED_AUTH_BASE_DELAY_MS - 5);
    // Another domain from a fresh address waits the base delay only.
    const other = await handshake('127.0.0.111', DOMAINS[6]!, 'guess');
    expect(other.outcome).toBe('not-authorized');
    expect(other.ms).toBeLessThan(answers[3]!.ms);
  });

  it('leave a right handshake from a fresh address unhurried', async () => {
    const answer = await handshake('127.0.0.121', DOMAINS[7]!, SECRET);
    expect(answer.outcome).toBe('<handshake/>');
    expect(answer.ms).toBeLessThan(FAILED_AUTH_BASE_DELAY_MS);
  });
});

describe('parallel component handshakes', () => {
  it('from one address are checked a few at a time, the rest refused after a bounded wait', async () => {
    // A domain of its own for each: only the address is the same.
    const streams = await Promise.all(
      DOMAINS.slice(12, 32).map((domain) => open('127.0.0.131', domain)),
    );
    const started = performance.now();
    for (const stream of streams) stream.send('wrong-secret');
    const answers = await Promise.all(streams.map((stream) => stream.answer(started)));
    expect(answers.map((a) => a.outcome)).toEqual(Array(20).fill('not-authorized'));

    // Two at a time, each holding its place through its delay: the third answer comes after
    // the first delay plus its own, and so on (at least: a loaded machine only adds). All at
    // once, they would all be answered within FAILED_AUTH_MAX_DELAY_MS.
    expect(MAX_ATTEMPTS_IN_PROGRESS).toBe(2);
    const base = FAILED_AUTH_BASE_DELAY_MS;
    const times = answers.map((a) => a.ms).sort((a, b) => a - b);
    expect(times[0]).toBeGreaterThanOrEqual(base - 5);
    expect(times[1]).toBeGreaterThanOrEqual(2 * base - 5);
    expect(times[2]).toBeGreaterThanOrEqual((1 + 4) * base - 5);
    expect(times[3]).toBeGreaterThanOrEqual((2 + 8) * base - 5);
    expect(times[4]).toBeGreaterThanOrEqual((1 + 4 + 16) * base - 5);
    expect(times.filter((ms) => ms < FAILED_AUTH_MAX_DELAY_MS + base)).toHaveLength(4);
    // The ones still in line when their wait ran out were refused together, unchecked.
    expect(times.at(-1)).toBeGreaterThanOrEqual(MAX_ATTEMPT_WAIT_MS - 5);
    expect(times.at(-1)).toBeLessThan(MAX_ATTEMPT_WAIT_MS + FAILED_AUTH_MAX_DELAY_MS);

    // A right handshake from another address is not held back by any of it.
    const right = await handshake('127.0.0.132', DOMAINS[8]!, SECRET);
    expect(right.outcome).toBe('<handshake/>');
    expect(right.ms).toBeLessThan(base);
  });
});
