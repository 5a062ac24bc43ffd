// Checks the peer benchmark's ejabberd on its own: installs it when missing, starts a private
// instance with users a and b (plus --extra-users N, to time bulk registration), logs both in
// over raw sockets with SASL PLAIN, sends a message from a to b's full JID, and stops it.
//
//   npm run build && node dist/scripts/bench/ejabberd-selfcheck.js [--extra-users 0] [--keep]
//
// --keep leaves the work directory (config, spool, logs) for a look afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Cleanup, runBenchmark, UsageError } from '../bench-support';
import { installEjabberd, startEjabberd } from './ejabberd';

const DOMAIN = 'example.com';
const PASSWORD = 'bench-secret';
const STEP_TIMEOUT_MS = 10_000;

interface Options {
  readonly extraUsers: number;
  readonly keep: boolean;
}

const USAGE = 'usage: ejabberd-selfcheck [--extra-users 0] [--keep]';

function parseOptions(argv: readonly string[]): Options {
  let extraUsers = 0;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') throw new UsageError('');
    if (arg === '--keep') keep = true;
    else if (arg === '--extra-users') {
      extraUsers = Number(argv[++i]);
      if (!Number.isInteger(extraUsers) || extraUsers < 0) {
        throw new UsageError('--extra-users needs a whole number');
      }
    } else throw new UsageError(`unexpected argument "${arg}"`);
  }
  return { extraUsers, keep };
}

async function run(options: Options, cleanup: Cleanup): Promise<boolean> {
  const log = (line: string) => console.log(line);
  const timings: [string, number][] = [];
  const timed = async <T>(what: string, action: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await action();
    timings.push([what, performance.now() - started]);
    return result;
  };

  await timed('install', () => installEjabberd(log));
  const workDir = mkdtempSync(path.join(tmpdir(), 'meridian-ejabberd-'));
  cleanup.add('work directory', async () => {
    if (options.keep) console.log(`selfcheck: work directory kept: ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  });
  const users = ['a', 'b', ...Array.from({ length: options.extraUsers }, (_, i) => `u${i}`)];
  const server = await timed('start (boot + registration)', () =>
    startEjabberd({ domain: DOMAIN, users, password: PASSWORD, workDir, log }, cleanup),
  );
  log(`selfcheck: ${server.name} pids ${server.pids().join(', ')}`);

  const [a, b] = await timed('log in a and b', () =>
    Promise.all([login(server.c2sPort, 'a'), login(server.c2sPort, 'b')]),
  );
  try {
    const body = `hello ${Date.now()}`;
    await timed('message a -> b', async () => {
      const arrived = b.waitFor(new RegExp(`<body>${body}</body>`));
      a.send(`<message to='${b.jid}' type='chat' id='m1'><body>${body}</body></message>`);
      await arrived;
    });
    log(`selfcheck: ${a.jid} -> ${b.jid}: message delivered`);
  } finally {
    a.close();
    b.close();
  }
  const pids = server.pids();
  await timed('stop', () => server.stop());
  const left = pids.filter(isAlive);
  for (const [what, ms] of timings)
    log(`selfcheck: ${what.padEnd(28)} ${(ms / 1000).toFixed(2)} s`);
  if (left.length > 0) {
    console.error(`selfcheck: processes still running after stop: ${left.join(', ')}`);
    return false;
  }
  log('selfcheck: passed');
  return true;
}

/** A bare client stream: SASL PLAIN, stream restart, resource binding, initial presence. */
class RawClient {
  private buffer = '';
  jid = '';

  constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.buffer += chunk));
  }

  send(xml: string): void {
    this.socket.write(xml);
  }

  /** Resolves with the first match in what arrived, and drops everything up to it. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(this.buffer);
        if (match) {
          this.buffer = this.buffer.slice(match.index + match[0].length);
          finish();
          resolve(match);
        }
      };
      const fail = (why: string) => {
        finish();
        reject(new Error(`${why} waiting for ${pattern}; received: ${this.buffer.slice(-500)}`));
      };
      const closed = () => fail('connection closed');
      const timer = setTimeout(() => fail(`no answer in ${STEP_TIMEOUT_MS} ms`), STEP_TIMEOUT_MS);
      const finish = () => {
        clearTimeout(timer);
        this.socket.off('data', check);
        this.socket.off('close', closed);
      };
      this.socket.on('data', check);
      this.socket.once('close', closed);
      check();
    });
  }

  close(): void {
    this.socket.end('</stream:stream>');
  }
}

async function login(port: number, user: string): Promise<RawClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const client = new RawClient(socket);
  const open = () =>
    client.send(
      `<?xml version='1.0'?><stream:stream to='${DOMAIN}' xmlns='jabber:client' ` +
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
    );
  open();
  const [features] = await client.waitFor(/<stream:features>[\s\S]*?<\/stream:features>/);
  if (!features.includes('<mechanism>PLAIN</mechanism>')) {
    throw new Error(`${user}: SASL PLAIN is not offered: ${features}`);
  }
  const credentials = Buffer.from(`\0${user}\0${PASSWORD}`).toString('base64');
  client.send(
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${credentials}</auth>`,
  );
  const [outcome] = await client.waitFor(
    /<success[^>]*(\/>|>[\s\S]*?<\/success>)|<failure[\s\S]*?<\/failure>/,
  );
  if (outcome.startsWith('<failure')) throw new Error(`${user}: authentication failed: ${outcome}`);
  open();
  await client.waitFor(/<stream:features>[\s\S]*?<\/stream:features>/);
  client.send(
    "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" +
      '<resource>selfcheck</resource></bind></iq>',
  );
  client.jid = (await client.waitFor(/<jid>([^<]+)<\/jid>/))[1]!;
  client.send('<presence/>');
  return client;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

runBenchmark({ usage: USAGE, parse: parseOptions, run });
