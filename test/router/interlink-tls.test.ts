// Links with mutual TLS: certificates made with the openssl CLI for the test. Nodes of the
// cluster CA talk; a client certificate of another CA, no certificate, or plain TCP is refused;
// TLS can be switched off and on by a revision without a restart.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { connect as connectTcp, createServer as createTcpServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeHelloFrame, encodeStanzaFrame } from '#interlink';
import { InterlinkConfigError } from '../../apps/router/src/interlink';
import {
  envelope,
  makeCertificates,
  MemoryEndpointSource,
  metric,
  sequenceOf,
  startNode,
  testConfig,
  waitFor,
  type TestCertificates,
  type TestNode,
} from './interlink-harness';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

let certs: TestCertificates;
let started: TestNode[] = [];

beforeAll(() => {
  expect(execFileSync('openssl', ['version']).toString()).toMatch(/^OpenSSL \d/);
  certs = makeCertificates(['node-a', 'node-b']);
});

afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

afterEach(async () => {
  await Promise.all(started.map((each) => each.close()));
  started = [];
});

async function tlsPair() {
  const source = new MemoryEndpointSource();
  const b = await startNode({ localHost: DC2, node: 'b', tls: certs.node('node-b') });
  source.set(DC2, [b.endpoint]);
  const a = await startNode({ localHost: DC1, node: 'a', source, tls: certs.node('node-a') });
  started.push(a, b);
  return { a, b };
}

/** Dials b with the given TLS client identity, says hello and one stanza; resolves when closed. */
function tlsIntruder(
  port: number,
  identity: { certFile?: string; keyFile?: string },
): Promise<void> {
  return new Promise((resolve) => {
    const socket: TLSSocket = connectTls(
      {
        host: '127.0.0.1',
        port,
        ca: readFileSync(certs.node('node-a').caFile),
        cert: identity.certFile ? readFileSync(identity.certFile) : undefined,
        key: identity.keyFile ? readFileSync(identity.keyFile) : undefined,
        checkServerIdentity: () => undefined,
      },
      () => {
        socket.write(
          Buffer.concat([
            encodeHelloFrame({ localHost: 'dc6.example.com', node: 'intruder' }),
            encodeStanzaFrame(envelope('intruder@x', 0)),
          ]),
        );
      },
    );
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.resume();
  });
}

describe('interlink with mutual TLS', () => {
  it('carries frames between nodes with certificates of the cluster CA', async () => {
    const { a, b } = await tlsPair();
    await Promise.all(
      range(200).map((n) => a.service.send({ localHost: DC2 }, envelope('t@x', n))),
    );
    await waitFor(() => b.received.length === 200, 'frames over TLS');
    expect(sequenceOf(b.received, 't@x')).toEqual(range(200));
    expect(await metric(a.registry, 'meridian_gd_outgoing_established_total', { host: DC2 })).toBe(
      1,
    );
    expect(await metric(b.registry, 'meridian_gd_incoming_first_packet_total', { host: DC1 })).toBe(
      1,
    );
  });

  it('refuses a client certificate of another CA, no certificate, and plain TCP', async () => {
    const { a, b } = await tlsPair();
    const port = b.address.port;
    await tlsIntruder(port, certs.rogue);
    await tlsIntruder(port, {});
    await new Promise<void>((resolve) => {
      const plain = connectTcp({ host: '127.0.0.1', port }, () =>
        plain.write(encodeHelloFrame({ localHost: 'dc6.example.com', node: 'plain' })),
      );
      plain.on('error', () => undefined);
      plain.on('close', () => resolve());
      plain.resume();
    });
    await waitFor(() => b.service.incoming.links === 0, 'the intruders gone');
    expect(await metric(b.registry, 'meridian_gd_incoming_errored_total')).toBe(3);
    expect(await metric(b.registry, 'meridian_gd_incoming_established_total')).toBe(0);
    expect(b.received).toHaveLength(0);

    // The cluster's own link still works.
    await a.service.send({ localHost: DC2 }, envelope('t@x', 0));
    await waitFor(() => b.received.length === 1, 'the legitimate frame');
  });

  it('switches TLS off and on again by revision, rebuilding the links without losing frames', async () => {
    const { a, b } = await tlsPair();
    await Promise.all(range(50).map((n) => a.service.send({ localHost: DC2 }, envelope('t@x', n))));
    await waitFor(() => b.received.length === 50, 'frames over TLS');

    b.service.applyConfig(testConfig(undefined, false));
    a.service.applyConfig(testConfig(undefined, false));
    await Promise.all(
      range(50).map((n) => a.service.send({ localHost: DC2 }, envelope('t@x', 50 + n))),
    );
    await waitFor(() => b.received.length === 100, 'frames over plain TCP');

    b.service.applyConfig(testConfig(undefined, true));
    a.service.applyConfig(testConfig(undefined, true));
    await Promise.all(
      range(50).map((n) => a.service.send({ localHost: DC2 }, envelope('t@x', 100 + n))),
    );
    await waitFor(() => b.received.length === 150, 'frames over TLS again');
    expect(sequenceOf(b.received, 't@x')).toEqual(range(150));
    expect(await metric(a.registry, 'meridian_gd_outgoing_established_total', { host: DC2 })).toBe(
      3,
    );
  });

  it('refuses a revision with TLS on when the certificate files are missing, keeping the old one', async () => {
    const source = new MemoryEndpointSource();
    const b = await startNode({ localHost: DC2, node: 'b' });
    source.set(DC2, [b.endpoint]);
    const a = await startNode({ localHost: DC1, node: 'a', source });
    started.push(a, b);
    expect(() => a.service.applyConfig(testConfig(undefined, true))).toThrow(InterlinkConfigError);
    expect(() => a.service.applyConfig(testConfig(undefined, true))).toThrow(
      'connections.tls.enabled is true but this node cannot do mutual TLS: TLS_CERT is not set; TLS_KEY is not set; TLS_CA is not set',
    );
    await a.service.send({ localHost: DC2 }, envelope('p@x', 0));
    await waitFor(() => b.received.length === 1, 'a plain frame under the old revision');
  });
});

describe('interlink shutdown with a handshake in progress', () => {
  it('close() does not wait for a client that never finishes its TLS handshake', async () => {
    const b = await startNode({
      localHost: DC2,
      node: 'b',
      tls: certs.node('node-b'),
      options: { helloTimeoutMs: 10_000 },
    });
    const stalled = connectTcp({ host: '127.0.0.1', port: b.address.port });
    stalled.on('error', () => undefined);
    await new Promise((resolve) => stalled.once('connect', resolve));
    const closing = Date.now();
    await b.close();
    expect(Date.now() - closing).toBeLessThan(1_000);
    stalled.destroy();
  });
});

describe('interlink dials that never answer', () => {
  it('counts an endpoint whose TLS handshake hangs as unreachable after unreachableAfterMs, not the connect timeout', async () => {
    // Accepts TCP and never answers the handshake: the dial hangs until connectTimeoutMs.
    const held = new Set<Socket>();
    const silent = createTcpServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const source = new MemoryEndpointSource();
      source.set(DC2, [{ node: 'b', host: '127.0.0.1', port }]);
      const a = await startNode({
        localHost: DC1,
        node: 'a',
        source,
        tls: certs.node('node-a'),
        options: { unreachableAfterMs: 300, connectTimeoutMs: 5_000 },
      });
      started.push(a);
      const handedBack: number[] = [];
      a.service.onUndeliverable(() => handedBack.push(Date.now()));
      const sentAt = Date.now();
      await a.service.send({ localHost: DC2, node: 'b' }, envelope('u@example.com', 0));
      await waitFor(() => handedBack.length === 1, 'the frame handed back', 3_000);
      expect(handedBack[0]! - sentAt).toBeLessThan(1_500);
      await expect(
        a.service.send({ localHost: DC2, node: 'b' }, envelope('u@example.com', 1)),
      ).rejects.toMatchObject({ reason: 'unreachable' });
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
