import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { WebSocketTransport, type FrameRefusal } from './websocket-transport';

/** The part of a ws WebSocket the transport uses. */
class FakeWebSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  readonly calls: string[] = [];
  send(text: string): void {
    this.sent.push(text);
  }
  close(code: number): void {
    this.calls.push(`close ${code}`);
    this.readyState = 2;
  }
  pause(): void {
    this.calls.push('pause');
  }
  resume(): void {
    this.calls.push('resume');
  }
  terminate(): void {
    this.calls.push('terminate');
    this.readyState = 3;
    this.emit('close', 1006, Buffer.alloc(0));
  }
}

function setUp() {
  const ws = new FakeWebSocket();
  const refused: FrameRefusal[] = [];
  const transport = new WebSocketTransport(
    ws as unknown as WebSocket,
    '198.51.100.7',
    true,
    false,
    (reason) => refused.push(reason),
  );
  const data: string[] = [];
  let closed = 0;
  transport.start({ data: (text) => data.push(text), closed: () => closed++ });
  return { ws, transport, refused, data, closed: () => closed };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('WebSocketTransport', () => {
  it('describes itself to the session', () => {
    const { transport, ws } = setUp();
    expect(transport).toMatchObject({
      kind: 'websocket',
      framing: 'websocket',
      canStartTls: false,
      secure: true,
      loopback: false,
      remoteAddress: '198.51.100.7',
    });
    ws.bufferedAmount = 1234;
    expect(transport.pendingOutputBytes).toBe(1234);
  });

  it('hands each text frame over as one chunk, and writes one frame per call', () => {
    const { ws, transport, data } = setUp();
    ws.emit('message', Buffer.from('<open/>'), false);
    ws.emit('message', [Buffer.from('<iq'), Buffer.from('/>')], false);
    expect(data).toEqual(['<open/>', '<iq/>']);
    transport.write('<a/>');
    transport.write('<b/>');
    expect(ws.sent).toEqual(['<a/>', '<b/>']);
  });

  it('closes with 1003 on a binary frame, which never reaches the session', () => {
    const { ws, data, refused } = setUp();
    ws.emit('message', Buffer.from('<open/>'), true);
    expect(data).toEqual([]);
    expect(ws.calls).toContain('close 1003');
    expect(refused).toEqual(['binary']);
  });

  it('counts what ws refused itself by its error code', () => {
    const { ws, refused } = setUp();
    ws.emit(
      'error',
      Object.assign(new Error('too big'), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' }),
    );
    ws.emit('error', Object.assign(new Error('bad'), { code: 'WS_ERR_INVALID_UTF8' }));
    ws.emit('error', Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    expect(refused).toEqual(['too-large', 'invalid-utf8']);
  });

  it('end() reads again so the closing handshake completes, and cuts off a silent client', () => {
    vi.useFakeTimers();
    const { ws, transport, closed } = setUp();
    transport.pause();
    transport.end();
    expect(ws.calls).toEqual(['pause', 'resume', 'close 1000']);
    vi.advanceTimersByTime(2_000);
    expect(ws.calls.at(-1)).toBe('terminate');
    expect(closed()).toBe(1);
  });

  it('reports the close once and writes nothing after it', () => {
    const { ws, transport, closed } = setUp();
    ws.emit('close', 1000, Buffer.alloc(0));
    ws.emit('close', 1000, Buffer.alloc(0));
    expect(closed()).toBe(1);
    transport.write('<late/>');
    transport.resume();
    expect(ws.sent).toEqual([]);
    expect(ws.calls).toEqual([]);
  });
});
