// auth.allowPlaintext is for benchmarks on one machine: PLAIN before TLS goes to loopback
// clients only (ARCHITECTURE §8). A client of this host's other address (eth0, say) is a
// client from the network: over TCP it must STARTTLS first, over ws:// it cannot log in at
// all. One router with a certificate and the switch on.
import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RawStream, streamOpen } from '../support/raw-stream';
import { startCluster, until, type Cluster } from '../support/router-cluster';
import { testTls } from '../support/test-tls';
import { JWT_SECRET, jwtFor } from '../support/xmpp-client';

const DC1 = 'dc1.example.com';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

/** An address of this host that is not loopback: connecting to it, a client is "remote". */
const networkAddress = Object.values(networkInterfaces())
  .flat()
  .find((info) => info && info.family === 'IPv4' && !info.internal)?.address;

let cluster: Cluster;
const sockets: { destroy(): void }[] = [];

beforeAll(async () => {
  cluster = await startCluster(
    { [DC1]: ['n1'] },
    (doc) => {
      doc.auth.jwt.secret = JWT_SECRET;
      doc.auth.allowPlaintext = true;
    },
    { tls: testTls() },
  );
});

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  RawStream.closeAll();
});

afterAll(async () => {
  await cluster?.close();
});

function httpPort(app: INestApplication): number {
  return (app.getHttpServer().address() as AddressInfo).port;
}

async function plainAuth(username: string): Promise<string> {
  const token = await jwtFor(username);
  const plain = Buffer.from(`\u0000${username}\u0000${token}`).toString('base64');
  return `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${plain}</auth>`;
}

describe('auth.allowPlaintext over TCP', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`offers PLAIN before TLS to a loopback client (${host}), and logs it in`, async () => {
      const stream = await RawStream.open(cluster.node(DC1).c2sPort, { host, localAddress: host });
      stream.write(streamOpen());
      const features = await stream.until(/<\/stream:features>/);
      expect(features).toContain('<mechanism>PLAIN</mechanism>');
      // STARTTLS stays available, no longer required.
      expect(features).toMatch(/<starttls xmlns=["'][^"']+["']\/>/);
      stream.write(await plainAuth('bench-user'));
      expect(await stream.until(/<success|<failure/)).toContain('<success');
    });
  }

  it.skipIf(!networkAddress)(
    'requires STARTTLS from a client of another address: no PLAIN before it, encryption-required',
    async () => {
      const stream = await RawStream.open(cluster.node(DC1).c2sPort, {
        host: networkAddress!,
        localAddress: networkAddress!,
      });
      stream.write(streamOpen());
      const features = await stream.until(/<\/stream:features>/);
      expect(features).toContain('<required/>');
      expect(features).not.toContain('PLAIN');
      stream.write(await plainAuth('remote-user'));
      expect(await stream.until(/<\/failure>/)).toContain('<encryption-required/>');
      expect(stream.text).not.toContain('<success');

      // Over TLS the same client logs in.
      const secure = await (
        await RawStream.open(cluster.node(DC1).c2sPort, {
          host: networkAddress!,
          localAddress: networkAddress!,
        })
      ).startTls();
      expect(await secure.until(/<\/stream:features>/)).toContain('<mechanism>PLAIN</mechanism>');
      secure.write(await plainAuth('remote-user'));
      expect(await secure.until(/<success|<failure/)).toContain('<success');
    },
  );
});

describe('auth.allowPlaintext over WebSocket', () => {
  const OPEN = `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>`;

  it.skipIf(!networkAddress)(
    'offers no PLAIN to a ws:// client of another address: it cannot log in',
    async () => {
      const url = `ws://${networkAddress}:${httpPort(cluster.node(DC1).app)}/xmpp-websocket`;
      const frames: string[] = [];
      const ws = new WebSocket(url, ['xmpp']);
      sockets.push({ destroy: () => ws.terminate() });
      ws.on('message', (data) => frames.push(data.toString()));
      ws.on('error', () => undefined);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(OPEN);
      const features = /<\/stream:features>|<stream:features[^>]*\/>/;
      await until(() => features.test(frames.join('')), 5_000, 'features');
      expect(frames.join('')).not.toContain('PLAIN');
      ws.send(await plainAuth('remote-ws-user'));
      await until(() => frames.join('').includes('</failure>'), 5_000, 'a SASL failure');
      expect(frames.join('')).toContain('<invalid-mechanism/>');
      expect(frames.join('')).not.toContain('<success');
    },
  );
});
