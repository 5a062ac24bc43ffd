import { describe, expect, it } from 'vitest';
import { encodeAckFrame, encodeFrame, encodeHelloFrame, encodeStanzaFrame } from './encode-frame';
import { FrameDecoder, type FrameDecodeErrorCode } from './frame-decoder';
import { HEADER_ALLOWANCE, maxFrameBytes } from './frame-format';
import type { InterlinkEnvelope, InterlinkFrame } from './frame-types';

const MAX_STANZA = 2048;

function envelope(n: number, stanza = `<message id='m${n}'><body>${n}</body></message>`) {
  return {
    ttl: n % 5,
    origin: 'dc1.example.com',
    stanzaId: `m${n}`,
    sentAtUs: 1_700_000_000_000_000 + n,
    senderKey: `user${n % 3}@example.com`,
    bounceAttempts: n % 2,
    targetNode: n % 2 ? null : 'node-1',
    stanza,
  } satisfies InterlinkEnvelope;
}

const hello = { localHost: 'dc1.example.com', node: 'n1' };
const frames: InterlinkFrame[] = [
  { kind: 'hello', hello },
  ...[1, 2, 3].map((n): InterlinkFrame => ({ kind: 'stanza', envelope: envelope(n) })),
  { kind: 'stanza', envelope: envelope(4, `<message><body>${'ü'.repeat(300)}</body></message>`) },
];
const stream = Buffer.concat([
  encodeHelloFrame(hello),
  ...frames
    .slice(1)
    .map((frame) => encodeStanzaFrame((frame as { envelope: InterlinkEnvelope }).envelope)),
]);

function decodeChunks(chunks: Buffer[], maxStanzaBytes = MAX_STANZA) {
  const decoder = new FrameDecoder({ maxStanzaBytes });
  const out: InterlinkFrame[] = [];
  let maxBuffered = 0;
  for (const chunk of chunks) {
    const result = decoder.push(chunk);
    expect(result.error).toBeNull();
    out.push(...result.frames);
    maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes);
  }
  return { out, decoder, maxBuffered };
}

function errorOf(
  bytes: Buffer,
  maxStanzaBytes = MAX_STANZA,
): { code: FrameDecodeErrorCode; message: string } {
  const result = new FrameDecoder({ maxStanzaBytes }).push(bytes);
  expect(result.error).not.toBeNull();
  return { code: result.error!.code, message: result.error!.message };
}

/** A frame from a raw body, to build broken ones. */
function rawFrame(body: number[] | Buffer): Buffer {
  const bytes = Buffer.from(body);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(bytes.length);
  return Buffer.concat([prefix, bytes]);
}

/** The body of a valid stanza frame with one part replaced, for targeted corruption. */
function stanzaBody(parts: {
  origin?: Buffer;
  target?: Buffer;
  id?: Buffer;
  key?: Buffer;
  stanza?: Buffer;
  time?: [number, number];
}): Buffer {
  const origin = parts.origin ?? Buffer.from('dc1');
  const target = parts.target ?? Buffer.alloc(0);
  const id = parts.id ?? Buffer.from('i');
  const key = parts.key ?? Buffer.from('k');
  const stanza = parts.stanza ?? Buffer.from('<m/>');
  const head = Buffer.alloc(12);
  head.writeUInt8(1, 0);
  head.writeUInt8(2, 1);
  head.writeUInt32BE(parts.time?.[0] ?? 0, 4);
  head.writeUInt32BE(parts.time?.[1] ?? 0, 8);
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  return Buffer.concat([
    head,
    Buffer.from([origin.length]),
    origin,
    Buffer.from([target.length]),
    target,
    u16(id.length),
    id,
    u16(key.length),
    key,
    stanza,
  ]);
}

describe('FrameDecoder', () => {
  it('decodes several frames from one chunk', () => {
    expect(decodeChunks([stream]).out).toEqual(frames);
  });

  it('decodes the same frames whatever byte offset the stream is split at', () => {
    for (let split = 0; split <= stream.length; split++) {
      const { out, decoder } = decodeChunks([stream.subarray(0, split), stream.subarray(split)]);
      expect(out, `split at ${split}`).toEqual(frames);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('decodes the same frames split at every pair of offsets', () => {
    const short = stream.subarray(
      0,
      encodeHelloFrame(hello).length + encodeStanzaFrame(envelope(1)).length,
    );
    for (let i = 0; i <= short.length; i++) {
      for (let j = i; j <= short.length; j++) {
        const { out } = decodeChunks([
          short.subarray(0, i),
          short.subarray(i, j),
          short.subarray(j),
        ]);
        expect(out).toEqual(frames.slice(0, 2));
      }
    }
  });

  it('decodes a stream fed one byte at a time, buffering at most one frame', () => {
    const bytes = [...stream].map((byte) => Buffer.from([byte]));
    const { out, maxBuffered } = decodeChunks(bytes);
    expect(out).toEqual(frames);
    expect(maxBuffered).toBeLessThanOrEqual(Math.max(...frames.map((_f, i) => frameLength(i))));
  });

  it('accepts a stanza of exactly maxStanzaBytes and a Uint8Array chunk', () => {
    const big = envelope(9, 'x'.repeat(MAX_STANZA));
    const bytes = new Uint8Array(encodeStanzaFrame(big));
    expect(new FrameDecoder({ maxStanzaBytes: MAX_STANZA }).push(bytes)).toEqual({
      frames: [{ kind: 'stanza', envelope: big }],
      error: null,
    });
  });

  describe('refuses, without throwing', () => {
    it('a length prefix over the limit as soon as the prefix is read', () => {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(MAX_STANZA + HEADER_ALLOWANCE + 1);
      const decoder = new FrameDecoder({ maxStanzaBytes: MAX_STANZA });
      expect(decoder.push(prefix.subarray(0, 3)).error).toBeNull();
      const result = decoder.push(prefix.subarray(3));
      expect(result.error?.code).toBe('oversize');
      expect(result.error?.message).toBe(
        `frame of ${MAX_STANZA + HEADER_ALLOWANCE + 1} bytes is over the limit of ${MAX_STANZA + HEADER_ALLOWANCE}`,
      );
      expect(decoder.bufferedBytes).toBe(0);
    });

    it('a stanza over maxStanzaBytes even when the frame fits the header allowance', () => {
      const bytes = encodeStanzaFrame(envelope(1, 'x'.repeat(MAX_STANZA + 1)));
      expect(errorOf(bytes)).toEqual({
        code: 'oversize',
        message: `stanza of ${MAX_STANZA + 1} bytes is over limits.maxStanzaBytes (${MAX_STANZA})`,
      });
    });

    it.each<[string, Buffer, FrameDecodeErrorCode, string]>([
      ['an empty body', rawFrame([]), 'truncated-header', 'frame of 0 bytes has no header'],
      ['a one-byte body', rawFrame([1]), 'truncated-header', 'frame of 1 bytes has no header'],
      [
        'a short hello',
        rawFrame([1, 1, 0]),
        'truncated-header',
        'hello frame shorter than its header',
      ],
      [
        'a short stanza header',
        rawFrame([1, 2, 0, 0, 0, 0]),
        'truncated-header',
        'stanza frame shorter',
      ],
      [
        'another format version',
        rawFrame([2, 1, 1, 0x61, 1, 0x62]),
        'bad-version',
        'format version 2 is not spoken here (1 is)',
      ],
      ['version 0', rawFrame([0, 2]), 'bad-version', 'format version 0'],
      ['an unknown kind', rawFrame([1, 9, 0, 0]), 'bad-kind', 'unknown frame kind 9'],
      ['a short ack', rawFrame([1, 3, 0, 0, 1]), 'bad-length', 'ack frame of 5 bytes (6 expected)'],
      [
        'an ack with bytes after the count',
        rawFrame([1, 3, 0, 0, 0, 1, 0]),
        'bad-length',
        'ack frame of 7 bytes',
      ],
      [
        'a hello name running past the frame',
        rawFrame([1, 1, 9, 0x61, 1, 0x62]),
        'bad-length',
        'localHost length 9 runs past the frame',
      ],
      [
        'a hello without a node length',
        rawFrame([1, 1, 2, 0x61, 0x61]),
        'bad-length',
        'no room for the node length',
      ],
      [
        'bytes after a hello',
        rawFrame([1, 1, 1, 0x61, 1, 0x62, 0]),
        'bad-length',
        '1 bytes after the hello',
      ],
      [
        'a hello with an empty node',
        rawFrame([1, 1, 1, 0x61, 0]),
        'bad-field',
        'hello without localHost or node',
      ],
      [
        'a hello with bad UTF-8',
        rawFrame([1, 1, 1, 0xff, 1, 0x62]),
        'bad-utf8',
        'localHost is not valid UTF-8',
      ],
      [
        'an origin with bad UTF-8',
        rawFrame(stanzaBody({ origin: Buffer.from([0xc3, 0x28]) })),
        'bad-utf8',
        'origin is not valid UTF-8',
      ],
      [
        'a stanza with bad UTF-8',
        rawFrame(stanzaBody({ stanza: Buffer.from([0x3c, 0xed, 0xa0, 0x80]) })),
        'bad-utf8',
        'stanza is not valid UTF-8',
      ],
      [
        'a sender key with a truncated character',
        rawFrame(stanzaBody({ key: Buffer.from([0xf0, 0x9f, 0x91]) })),
        'bad-utf8',
        'senderKey is not valid UTF-8',
      ],
      [
        'an empty origin',
        rawFrame(stanzaBody({ origin: Buffer.alloc(0) })),
        'bad-field',
        'stanza frame without origin',
      ],
      [
        'an empty stanza',
        rawFrame(stanzaBody({ stanza: Buffer.alloc(0) })),
        'bad-field',
        'empty stanza',
      ],
      [
        'a send time beyond 2^53',
        rawFrame(stanzaBody({ time: [0x20_0000, 0] })),
        'bad-field',
        'send time out of range',
      ],
      [
        'a stanza id over 3072 bytes',
        rawFrame(stanzaBody({ id: Buffer.alloc(3073, 0x61) })),
        'bad-length',
        'stanzaId of 3073 bytes is over 3072',
      ],
    ])('%s', (_name, bytes, code, message) => {
      const error = errorOf(bytes);
      expect(error.code).toBe(code);
      expect(error.message).toContain(message);
    });

    it('a sender key length running past the frame', () => {
      const body = stanzaBody({ key: Buffer.from('k'), stanza: Buffer.alloc(0) });
      body.writeUInt16BE(500, body.length - 3); // the sender key's length field
      expect(errorOf(rawFrame(body)).code).toBe('bad-length');
    });
  });

  it('returns the frames before an error, then the same error for every later chunk', () => {
    const bad = rawFrame([7, 7]);
    const decoder = new FrameDecoder({ maxStanzaBytes: MAX_STANZA });
    const first = decoder.push(Buffer.concat([stream, bad, stream]));
    expect(first.frames).toEqual(frames);
    expect(first.error?.code).toBe('bad-version');
    const later = decoder.push(stream);
    expect(later).toEqual({ frames: [], error: first.error });
    expect(decoder.failed).toBe(first.error);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes acks, the count taken modulo 2^32', () => {
    const bytes = Buffer.concat([
      encodeAckFrame(0),
      encodeAckFrame(70_000),
      encodeAckFrame(2 ** 32 + 5),
    ]);
    const { out } = decodeChunks([...bytes].map((byte) => Buffer.from([byte])));
    expect(out).toEqual([
      { kind: 'ack', count: 0 },
      { kind: 'ack', count: 70_000 },
      { kind: 'ack', count: 5 },
    ]);
  });

  it('reports the limits it was built with', () => {
    expect(maxFrameBytes(MAX_STANZA)).toBe(4 + MAX_STANZA + HEADER_ALLOWANCE);
  });
});

function frameLength(index: number): number {
  return encodeFrame(frames[index]).length;
}
