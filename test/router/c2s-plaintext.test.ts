// auth.allowPlaintext is for benchmarks on one machine: PLAIN before TLS goes to loopback
// clients only (ARCHITECTURE §8). A client of this host's other address (eth0, say) is a
// client from the network: over TCP it must STARTTLS first, over ws:// it cannot log in at
// all. One router with a certificate and the switch on.
import type { INestApplication } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { connect as connectTls } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startCluster, until, type Cluster } from '../support/router-cluster';
import { testTls } from '../support/test-tls';
import { JWT_SECRET, jwtFor } from '../support/xmpp-client';

const DC1 = 'dc1.example.com';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const STREAM_OPEN =
  `<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' ` +
  `xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;

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
      const stream = await RawStream.open(cluster.node(DC1).c2sPort, host);
      stream.write(STREAM_OPEN);
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
      const stream = await RawStream.open(cluster.node(DC1).c2sPort, networkAddress!);
      stream.write(STREAM_OPEN);
      const features = await stream.until(/<\/stream:features>/);
      expect(features).toContain('<required/>');
      expect(features).not.toContain('PLAIN');
      stream.write(await plainAuth('remote-user'));
      expect(await stream.until(/<\/failure>/)).toContain('<encryption-required/>');
      expect(stream.text).not.toContain('<success');

      // Over TLS the same client logs in.
      const secure = await (await RawStream.open(cluster.node(DC1).c2sPort, networkAddress!)).tls();
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

/** A raw XMPP connection from a chosen address, for what no client library shows. */
class RawStream {
  text = '';

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.text += chunk));
    socket.on('error', () => undefined);
    sockets.push(socket);
  }

  /** Connects from `address` to the same address: the router sees `address` as the client. */
  static open(port: number, address: string): Promise<RawStream> {
    return new Promise((resolve, reject) => {
      const socket = connectTcp({ port, host: address, localAddress: address }, () =>
        resolve(new RawStream(socket)),
      );
      socket.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  async until(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    await until(() => pattern.test(this.text), timeoutMs, `${pattern} in ${this.text.slice(-500)}`);
    return this.text;
  }

  /** STARTTLS, then a new stream over TLS (its features are read by the caller). */
  async tls(): Promise<RawStream> {
    this.write(STREAM_OPEN);
    await this.until(/<\/stream:features>/);
    this.write(`<starttls xmlns='${NS_TLS}'/>`);
    await this.until(/<proceed/);
    this.socket.removeAllListeners('data');
    const tls = connectTls({
      socket: this.socket,
      servername: 'example.com',
      ca: readFileSync(testTls().caFile),
    });
    await new Promise<void>((resolve, reject) => {
      tls.once('secureConnect', resolve);
      tls.once('error', reject);
    });
    const secure = new RawStream(tls as unknown as Socket);
    secure.write(STREAM_OPEN);
    return secure;
  }
}
