// A second client library nobody here wrote: slixmpp (Debian's python3-slixmpp, installed by
// .ci/run) logs in with a JWT over STARTTLS, verifying the certificate against the test CA, at
// one datacenter and chats with an xmpp.js client at the other.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, until, type Cluster } from '../support/router-cluster';
import { testTls } from '../support/test-tls';
import { JWT_SECRET, jwtFor, XmppTestClient } from '../support/xmpp-client';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
/** Debian's interpreter, where python3-slixmpp is installed (`python3` may be another one). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(__dirname, '../support/slixmpp-client.py');

const slixmppMissing =
  spawnSync(PYTHON, ['-c', 'import slixmpp'], { stdio: 'ignore' }).status !== 0;
if (slixmppMissing) {
  console.warn(
    `slixmpp test skipped: ${PYTHON} cannot import slixmpp (apt-get install python3-slixmpp; .ci/run does)`,
  );
}

let cluster: Cluster;

beforeAll(async () => {
  if (slixmppMissing) return;
  cluster = await startCluster(
    { [DC1]: ['n1'], [DC2]: ['n1'] },
    (doc) => {
      doc.auth.jwt.secret = JWT_SECRET;
    },
    { tls: testTls() },
  );
});

afterAll(async () => {
  await cluster?.close();
});

interface SlixEvent {
  readonly event: string;
  readonly jid?: string;
  readonly sender?: string;
  readonly body?: string;
}

it.skipIf(slixmppMissing)(
  'slixmpp at one datacenter and xmpp.js at the other exchange messages',
  async () => {
    const alice = await XmppTestClient.connect({
      port: cluster.node(DC1).c2sPort,
      username: 'alice',
      resource: 'js',
    });
    try {
      const child = spawn(
        PYTHON,
        [
          SCRIPT,
          '--jid=bob@example.com/slix',
          `--token=${await jwtFor('bob')}`,
          `--port=${cluster.node(DC2).c2sPort}`,
          `--ca=${testTls().caFile}`,
          `--peer=${alice.jid}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const events: SlixEvent[] = [];
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      createInterface({ input: child.stdout }).on('line', (line) => {
        try {
          events.push(JSON.parse(line) as SlixEvent);
        } catch {
          stderr += `${line}\n`;
        }
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

      await until(
        () => events.some((e) => e.event === 'online'),
        20_000,
        `slixmpp online ${stderr}`,
      );
      expect(events.find((e) => e.event === 'online')?.jid).toBe('bob@example.com/slix');
      const hello = await alice.waitFor((s) => s.name === 'message', 'hello from slixmpp', 10_000);
      expect(hello.attrs.from).toBe('bob@example.com/slix');
      expect(hello.getChildText('body')).toBe('hello from slixmpp');

      await alice.message('bob@example.com/slix', 'hi from xmpp.js');
      await alice.message('bob@example.com', 'bye');
      await until(
        () => events.some((e) => e.event === 'message' && e.body === 'bye'),
        10_000,
        `slixmpp got the messages ${stderr}`,
      );
      const received = events.filter((e) => e.event === 'message');
      expect(received.map((e) => e.body)).toEqual(['hi from xmpp.js', 'bye']);
      expect(received[0]!.sender).toBe(alice.jid);
      expect(await exited).toBe(0);
    } finally {
      await alice.stop();
    }
  },
);
