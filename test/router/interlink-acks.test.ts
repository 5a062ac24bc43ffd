// Acknowledgements on the interlink: the accepting node acknowledges what it has handled, and the
// dialling node keeps every written frame until then, so that a link that dies (peer killed,
// TCP giving up, a stopping node ending it) loses nothing in silence. Peers here are real
// InterlinkService instances and raw TCP peers that misbehave on purpose.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  encodeAckFrame,
  encodeHelloFrame,
  encodeStanzaFrame,
  FrameDecoder,
  type InterlinkEnvelope,
  type InterlinkFrame,
} from '#interlink';
import {
  envelope,
  MemoryEndpointSource,
  metric,
  sequenceOf,
  sleep,
  startNode,
  waitFor,
  type NodeSpec,
  type TestNode,
} from './interlink-harness';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

let started: TestNode[] = [];
let peers: RawPeer[] = [];

async function node(spec: NodeSpec): Promise<TestNode> {
  const created = await startNode(spec);
  started.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(started.map((created) => created.close()));
  await Promise.all(peers.map((peer) => peer.close()));
  started = [];
  peers = [];
});

/** What a raw peer does with each accepted connection, by its number (0 = first). */
type AckMode = 'all' | 'hello-only' | 'never';

interface RawConnection {
  readonly socket: Socket;
  readonly stanzas: InterlinkEnvelope[];
}

/** A hand-made accepting peer: decodes what a node writes and acknowledges as told. */
class RawPeer {
  readonly connections: RawConnection[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(modeOf: (connection: number) => AckMode): Promise<RawPeer> {
    let peer: RawPeer | null = null;
    const server = createServer((socket) => peer!.accept(socket, modeOf));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    peer = new RawPeer(server, address.port);
    peers.push(peer);
    return peer;
  }

  get endpoint() {
    return { node: 'raw', host: '127.0.0.1', port: this.port };
  }

  /** The numbers of one sender's stanzas over all connections, in the order they came. */
  sequence(senderKey: string): number[] {
    return this.connections.flatMap((connection) =>
      connection.stanzas
        .filter((each) => each.senderKey === senderKey)
        .map((each) => Number(each.stanzaId.slice(senderKey.length + 1))),
    );
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket, modeOf: (connection: number) => AckMode): void {
    const mode = modeOf(this.connections.length);
    const connection: RawConnection = { socket, stanzas: [] };
    this.connections.push(connection);
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => this.sockets.delete(socket));
    const decoder = new FrameDecoder({ maxStanzaBytes: 65_536 });
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk).frames) {
        if (frame.kind === 'hello' && mode !== 'never') socket.write(encodeAckFrame(0));
        if (frame.kind !== 'stanza') continue;
        connection.stanzas.push(frame.envelope);
        if (mode === 'all') socket.write(encodeAckFrame(connection.stanzas.length));
      }
    });
  }
}

/** A node in dc1 whose only dc2 endpoint is the raw peer. */
async function senderTo(peer: RawPeer, options: NodeSpec['options'] = {}): Promise<TestNode> {
  const source = new MemoryEndpointSource();
  source.set(DC2, [peer.endpoint]);
  return node({ localHost: DC1, node: 'a', source, options });
}

function unacked(sender: TestNode): number {
  return sender.service.destinationsInUse().reduce((sum, each) => sum + each.unackedFrames, 0);
}

describe('interlink acknowledgements, sending side', () => {
  it('writes again, in order and first, what a lost link had not had acknowledged', async () => {
    // First connection: ack 0, then silence and a reset; later ones acknowledge everything.
    const peer = await RawPeer.start((n) => (n === 0 ? 'hello-only' : 'all'));
    const a = await senderTo(peer);
    const sender = 'alice@example.com';
    for (const n of range(5)) await a.service.send({ localHost: DC2 }, envelope(sender, n));
    await waitFor(() => peer.connections[0]?.stanzas.length === 5, 'five frames on the first link');
    expect(unacked(a)).toBe(5);

    peer.connections[0]!.socket.destroy();
    await waitFor(() => peer.connections.length === 2, 'a second link');
    for (const n of range(5)) await a.service.send({ localHost: DC2 }, envelope(sender, 5 + n));
    await waitFor(() => peer.connections[1]!.stanzas.length === 10, 'ten frames on the second');
    // The five unacknowledged ones again, first, then the new ones: order kept, none lost.
    expect(peer.connections[1]!.stanzas.map((each) => each.stanzaId)).toEqual(
      range(10).map((n) => `${sender}-${n}`),
    );
    await waitFor(() => unacked(a) === 0, 'everything acknowledged');
    expect(await metric(a.registry, 'meridian_gd_outgoing_requeued_total', { host: DC2 })).toBe(5);
  });

  it('takes a link whose peer stops acknowledging for dead after acks.timeoutMs, and writes again', async () => {
    const peer = await RawPeer.start((n) => (n === 0 ? 'hello-only' : 'all'));
    const a = await senderTo(peer, { acks: { timeoutMs: 300 } });
    const sender = 'bob@example.com';
    const started = Date.now();
    for (const n of range(3)) await a.service.send({ localHost: DC2 }, envelope(sender, n));
    // Nothing closes the first link but the missing acknowledgements.
    await waitFor(() => peer.connections[1]?.stanzas.length === 3, 'the frames again', 5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(peer.sequence(sender)).toEqual([0, 1, 2, 0, 1, 2]);
    await waitFor(() => unacked(a) === 0, 'everything acknowledged');
  });

  it('writes no more than the window before acknowledgements come', async () => {
    // The peer acknowledges once, then only when told to: the window holds the rest back.
    const peer = await RawPeer.start(() => 'hello-only');
    const a = await senderTo(peer, { acks: { maxUnackedFrames: 4, timeoutMs: 10_000 } });
    const sender = 'carol@example.com';
    for (const n of range(10)) await a.service.send({ localHost: DC2 }, envelope(sender, n));
    await waitFor(() => peer.connections[0]?.stanzas.length === 4, 'a window of frames');
    await sleep(150);
    expect(peer.connections[0]!.stanzas.length).toBe(4);
    expect(a.service.destinationsInUse()[0]).toMatchObject({ queuedFrames: 6, unackedFrames: 4 });

    peer.connections[0]!.socket.write(encodeAckFrame(3));
    await waitFor(() => peer.connections[0]!.stanzas.length === 7, 'three more after an ack of 3');
    peer.connections[0]!.socket.write(encodeAckFrame(7));
    await waitFor(() => peer.connections[0]!.stanzas.length === 10, 'the rest');
    peer.connections[0]!.socket.write(encodeAckFrame(10));
    await waitFor(() => unacked(a) === 0, 'everything acknowledged');
    expect(peer.sequence(sender)).toEqual(range(10));
    expect(peer.connections).toHaveLength(1);
  });

  it('treats a peer that never acknowledges (an earlier release) as one that cannot, and keeps sending', async () => {
    const peer = await RawPeer.start(() => 'never');
    const a = await senderTo(peer, { acks: { maxUnackedFrames: 4, firstAckTimeoutMs: 300 } });
    const sender = 'dave@example.com';
    for (const n of range(10)) await a.service.send({ localHost: DC2 }, envelope(sender, n));
    await waitFor(() => peer.connections[0]?.stanzas.length === 4, 'a window of frames');
    // After acks.firstAckTimeoutMs without a single ack, frames are no longer held back or kept.
    await waitFor(() => peer.connections[0]!.stanzas.length === 10, 'the rest', 3_000);
    await sleep(400);
    expect(peer.connections).toHaveLength(1);
    expect(unacked(a)).toBe(0);
    for (const n of range(5)) await a.service.send({ localHost: DC2 }, envelope(sender, 10 + n));
    await waitFor(() => peer.connections[0]!.stanzas.length === 15, 'later frames at once');
    expect(peer.sequence(sender)).toEqual(range(15));
  });

  it('closes a link whose peer acknowledges more than was written, or writes anything but acks', async () => {
    const peer = await RawPeer.start((n) => (n < 2 ? 'hello-only' : 'all'));
    const a = await senderTo(peer);
    await a.service.send({ localHost: DC2 }, envelope('erin@example.com', 0));
    await waitFor(() => peer.connections[0]?.stanzas.length === 1, 'one frame');
    peer.connections[0]!.socket.write(encodeAckFrame(2));
    await waitFor(() => peer.connections.length === 2, 'a new link after a wrong ack');
    // The frame it could not trust the ack for was written again.
    await waitFor(() => peer.connections[1]!.stanzas.length === 1, 'the frame again');
    peer.connections[1]!.socket.write(encodeHelloFrame({ localHost: DC2, node: 'x' }));
    await waitFor(() => peer.connections.length === 3, 'a new link after a hello from the peer');
    expect(
      await metric(a.registry, 'meridian_gd_outgoing_errored_total', { host: DC2 }),
    ).toBeGreaterThanOrEqual(2);
  });
});

describe('interlink acknowledgements, receiving side', () => {
  /** Dials a node by hand and collects the acks it writes back. */
  async function rawSender(port: number) {
    const { connect } = await import('node:net');
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => socket.once('connect', resolve));
    const acks: number[] = [];
    const decoder = new FrameDecoder({ maxStanzaBytes: 0 });
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk).frames as InterlinkFrame[]) {
        if (frame.kind === 'ack') acks.push(frame.count);
      }
    });
    socket.on('error', () => undefined);
    return { socket, acks, last: () => acks.at(-1) ?? -1 };
  }

  it('acknowledges 0 on the hello, then the count handled in arrival order', async () => {
    const b = await node({ localHost: DC2, node: 'b', noHandler: true });
    let releaseSlow: () => void = () => undefined;
    const slowDone = new Promise<void>((resolve) => (releaseSlow = resolve));
    const handled: string[] = [];
    b.service.setHandler(async (each: InterlinkEnvelope) => {
      if (each.senderKey === 'slow@example.com') await slowDone;
      handled.push(each.stanzaId);
    });
    const raw = await rawSender(b.address.port);
    raw.socket.write(encodeHelloFrame({ localHost: DC1, node: 'raw' }));
    await waitFor(() => raw.acks.length === 1, 'ack 0 after the hello');
    expect(raw.acks).toEqual([0]);

    raw.socket.write(
      Buffer.concat([
        encodeStanzaFrame(envelope('slow@example.com', 0)),
        ...range(9).map((n) => encodeStanzaFrame(envelope('fast@example.com', n))),
      ]),
    );
    // Nine later frames are handled, but the first is not: nothing past it is acknowledged.
    await waitFor(() => handled.length === 9, 'the fast sender handled');
    await sleep(100);
    expect(raw.last()).toBe(0);
    releaseSlow();
    await waitFor(() => raw.last() === 10, 'all ten acknowledged');
    raw.socket.destroy();
  });

  it('a stopping node acknowledges what it handled, ends its links, and what it never read goes elsewhere', async () => {
    const source = new MemoryEndpointSource();
    // b1 handles slowly and reads little ahead, so most of what a writes stays unread.
    const b1 = await node({
      localHost: DC2,
      node: 'b1',
      noHandler: true,
      options: { incoming: { maxInFlightFrames: 2, maxInFlightBytes: 1 << 20 } },
    });
    const onB1: string[] = [];
    b1.service.setHandler(async (each) => {
      await sleep(20);
      onB1.push(each.stanzaId);
    });
    const b2 = await node({ localHost: DC2, node: 'b2' });
    source.set(DC2, [b1.endpoint]);
    const a = await node({
      localHost: DC1,
      node: 'a',
      source,
      config: (config) => {
        config.connections.endpointRefreshIntervalS = 60;
        config.connections.disabledGcIntervalS = 60;
      },
    });
    const sender = 'frank@example.com';
    // Big frames, so that the socket buffers hold few of them.
    const body = 'x'.repeat(60_000);
    for (const n of range(40)) {
      await a.service.send(
        { localHost: DC2 },
        envelope(sender, n, { stanza: `<message id='${n}'><body>${body}</body></message>` }),
      );
    }
    await waitFor(() => onB1.length >= 3, 'b1 handling');
    // b1 leaves: its endpoint is gone from the source, and it stops.
    source.set(DC2, [b2.endpoint]);
    await b1.close();
    await waitFor(
      () => onB1.length + b2.received.length >= 40,
      'every frame handled by b1 or b2',
      15_000,
    );
    await sleep(200);
    const all = [...onB1, ...sequenceOf(b2.received, sender).map((n) => `${sender}-${n}`)];
    // Nothing lost, nothing twice (b1 acknowledged what it handled before ending), in order.
    expect(all).toEqual(range(40).map((n) => `${sender}-${n}`));
    expect(onB1.length).toBeLessThan(40);
    expect(await metric(a.registry, 'meridian_gd_outgoing_requeued_total', { host: DC2 })).toBe(
      40 - onB1.length,
    );
  });
});
