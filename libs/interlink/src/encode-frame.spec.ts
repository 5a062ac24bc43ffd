import { describe, expect, it } from 'vitest';
import {
  encodeAckFrame,
  encodeFrame,
  encodeHelloFrame,
  encodeStanzaFrame,
  FrameEncodeError,
} from './encode-frame';
import { decodeFrameBody } from './frame-decoder';
import { FRAME_VERSION, HEADER_ALLOWANCE, MAX_ID_BYTES } from './frame-format';
import type { InterlinkEnvelope } from './frame-types';

const envelope: InterlinkEnvelope = {
  ttl: 3,
  origin: 'dc1.example.com',
  stanzaId: 'm-1',
  sentAtUs: 1_795_000_000_123_456,
  senderKey: 'alice@example.com/phone',
  bounceAttempts: 1,
  targetNode: 'node-b',
  stanza: "<message to='bob@example.com' id='m-1'><body>héllo 👋</body></message>",
};

function roundTrip(buffer: Buffer, maxStanzaBytes = 65536) {
  expect(buffer.readUInt32BE(0)).toBe(buffer.length - 4);
  return decodeFrameBody(buffer.subarray(4), maxStanzaBytes);
}

function encodeError(fn: () => unknown): FrameEncodeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FrameEncodeError) return err;
    throw err;
  }
  throw new Error('expected a FrameEncodeError');
}

describe('encodeStanzaFrame', () => {
  it('lays out the header as documented', () => {
    const frame = encodeStanzaFrame(envelope);
    expect(frame[4]).toBe(FRAME_VERSION);
    expect(frame[5]).toBe(2); // stanza
    expect(frame[6]).toBe(3); // ttl
    expect(frame[7]).toBe(1); // bounce attempts
    const high = frame.readUInt32BE(8);
    const low = frame.readUInt32BE(12);
    expect(high * 2 ** 32 + low).toBe(envelope.sentAtUs);
    expect(frame[16]).toBe(Buffer.byteLength(envelope.origin));
    expect(frame.subarray(17, 17 + 15).toString()).toBe('dc1.example.com');
  });

  it('round-trips every field, multi-byte characters included', () => {
    expect(roundTrip(encodeStanzaFrame(envelope))).toEqual({ kind: 'stanza', envelope });
  });

  it('round-trips a missing target node as null, and the extremes of each field', () => {
    const extreme: InterlinkEnvelope = {
      ttl: 255,
      origin: 'o'.repeat(255),
      stanzaId: 'i'.repeat(MAX_ID_BYTES),
      sentAtUs: Number.MAX_SAFE_INTEGER,
      senderKey: 'k'.repeat(MAX_ID_BYTES),
      bounceAttempts: 255,
      targetNode: null,
      stanza: 'x'.repeat(65536),
    };
    expect(roundTrip(encodeStanzaFrame(extreme, { maxStanzaBytes: 65536 }))).toEqual({
      kind: 'stanza',
      envelope: extreme,
    });
    const zero = {
      ...envelope,
      ttl: 0,
      bounceAttempts: 0,
      sentAtUs: 0,
      stanzaId: '',
      senderKey: '',
    };
    expect(roundTrip(encodeStanzaFrame(zero))).toEqual({ kind: 'stanza', envelope: zero });
  });

  it('writes an empty target node as none', () => {
    const decoded = roundTrip(encodeStanzaFrame({ ...envelope, targetNode: '' }));
    expect(decoded).toMatchObject({ envelope: { targetNode: null } });
  });

  it('keeps the largest header within the allowance', () => {
    const frame = encodeStanzaFrame({
      ...envelope,
      origin: 'o'.repeat(255),
      targetNode: 'n'.repeat(255),
      stanzaId: 'i'.repeat(MAX_ID_BYTES),
      senderKey: 'k'.repeat(MAX_ID_BYTES),
      stanza: 'x',
    });
    expect(frame.length - 4 - 1).toBeLessThanOrEqual(HEADER_ALLOWANCE);
  });

  it('refuses a stanza over maxStanzaBytes, counting UTF-8 bytes', () => {
    const stanza = 'é'.repeat(600); // 1200 bytes
    expect(() =>
      encodeStanzaFrame({ ...envelope, stanza }, { maxStanzaBytes: 1200 }),
    ).not.toThrow();
    const error = encodeError(() =>
      encodeStanzaFrame({ ...envelope, stanza }, { maxStanzaBytes: 1199 }),
    );
    expect(error.code).toBe('oversize');
    expect(error.message).toBe('stanza of 1200 bytes is over limits.maxStanzaBytes (1199)');
  });

  it.each([
    ['ttl', { ttl: 256 }, 'ttl must be a whole number 0-255, got 256'],
    ['ttl', { ttl: -1 }, 'ttl must be a whole number 0-255, got -1'],
    ['ttl', { ttl: 1.5 }, 'ttl must be a whole number 0-255, got 1.5'],
    ['bounceAttempts', { bounceAttempts: 300 }, 'bounceAttempts must be a whole number 0-255'],
    ['sentAtUs', { sentAtUs: -1 }, 'sentAtUs must be a whole number >= 0, got -1'],
    ['sentAtUs', { sentAtUs: 2 ** 53 }, 'sentAtUs must be a whole number >= 0'],
    ['origin', { origin: '' }, 'origin must be 1-255 bytes of UTF-8, got 0'],
    ['origin', { origin: 'é'.repeat(128) }, 'origin must be 1-255 bytes of UTF-8, got 256'],
    ['targetNode', { targetNode: 'n'.repeat(256) }, 'targetNode must be 0-255 bytes'],
    ['stanzaId', { stanzaId: 'i'.repeat(3073) }, 'stanzaId is 3073 bytes, over 3072'],
    ['senderKey', { senderKey: 'k'.repeat(3073) }, 'senderKey is 3073 bytes, over 3072'],
    ['stanza', { stanza: '' }, 'the stanza is empty'],
  ])('refuses a bad %s', (_field, change, message) => {
    const error = encodeError(() => encodeStanzaFrame({ ...envelope, ...change }));
    expect(error.code).toBe('bad-field');
    expect(error.message).toContain(message);
  });
});

describe('encodeHelloFrame', () => {
  it('round-trips the node and its datacenter', () => {
    const hello = { localHost: 'dc2.example.com', node: 'router-7' };
    const frame = encodeHelloFrame(hello);
    expect(frame.subarray(4, 6)).toEqual(Buffer.from([FRAME_VERSION, 1]));
    expect(roundTrip(frame)).toEqual({ kind: 'hello', hello });
  });

  it('refuses empty or long names', () => {
    expect(encodeError(() => encodeHelloFrame({ localHost: '', node: 'n' })).message).toBe(
      'localHost must be 1-255 bytes of UTF-8, got 0',
    );
    expect(
      encodeError(() => encodeHelloFrame({ localHost: 'h', node: 'n'.repeat(256) })).code,
    ).toBe('bad-field');
  });
});

describe('encodeFrame', () => {
  it('dispatches on the kind', () => {
    const hello = { localHost: 'dc1', node: 'a' };
    expect(encodeFrame({ kind: 'hello', hello })).toEqual(encodeHelloFrame(hello));
    expect(encodeFrame({ kind: 'stanza', envelope })).toEqual(encodeStanzaFrame(envelope));
    expect(() =>
      encodeFrame(
        { kind: 'stanza', envelope: { ...envelope, stanza: 'xx' } },
        { maxStanzaBytes: 1 },
      ),
    ).toThrow(FrameEncodeError);
  });
});

describe('encodeAckFrame', () => {
  it('lays out version, kind and a big-endian count, and round-trips', () => {
    const bytes = encodeAckFrame(0x0102_0304);
    expect([...bytes]).toEqual([0, 0, 0, 6, FRAME_VERSION, 3, 1, 2, 3, 4]);
    expect(roundTrip(bytes)).toEqual({ kind: 'ack', count: 0x0102_0304 });
    expect(roundTrip(encodeFrame({ kind: 'ack', count: 7 }))).toEqual({ kind: 'ack', count: 7 });
  });

  it('wraps the count at 2^32 and refuses what is not a count', () => {
    expect(roundTrip(encodeAckFrame(2 ** 32 + 9))).toEqual({ kind: 'ack', count: 9 });
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(encodeError(() => encodeAckFrame(bad)).code).toBe('bad-field');
    }
  });
});
