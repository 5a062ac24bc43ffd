// Properties of the interlink frame codec: any envelope the format can carry round-trips
// through any chunking; any other envelope is refused with a FrameEncodeError; random and
// mutated bytes give at most a FrameDecodeError value (never an exception), the decoder never
// holds more than one maximal frame, and a failed stream stays failed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, encodeHelloFrame, encodeStanzaFrame, FrameEncodeError } from './encode-frame';
import { decodeFrameBody, FrameDecodeError, FrameDecoder } from './frame-decoder';
import { MAX_ID_BYTES, MAX_SHORT_STRING_BYTES, maxFrameBytes } from './frame-format';
import type { InterlinkEnvelope, InterlinkFrame } from './frame-types';

const SEED = 20_261_122;
const settings = { seed: SEED, numRuns: 300 };
const MAX_STANZA = 4096;

/** A string of at most `maxBytes` bytes of UTF-8 (well-formed: no lone surrogates). */
const utf8 = (minBytes: number, maxBytes: number) =>
  fc
    .string({ unit: 'binary', maxLength: maxBytes })
    .map((s) => {
      let out = s;
      while (Buffer.byteLength(out) > maxBytes) out = [...out].slice(0, -1).join('');
      return out;
    })
    .filter((s) => Buffer.byteLength(s) >= minBytes);

const envelope: fc.Arbitrary<InterlinkEnvelope> = fc.record({
  ttl: fc.integer({ min: 0, max: 255 }),
  origin: utf8(1, MAX_SHORT_STRING_BYTES),
  stanzaId: fc.oneof(utf8(0, 40), utf8(0, MAX_ID_BYTES)),
  sentAtUs: fc.oneof(fc.nat(), fc.maxSafeNat()),
  senderKey: fc.oneof(utf8(0, 60), utf8(0, MAX_ID_BYTES)),
  bounceAttempts: fc.integer({ min: 0, max: 255 }),
  targetNode: fc.option(utf8(1, MAX_SHORT_STRING_BYTES), { nil: null }),
  stanza: fc.oneof(utf8(1, 200), utf8(1, MAX_STANZA)),
});

const hello = fc.record({
  localHost: utf8(1, MAX_SHORT_STRING_BYTES),
  node: utf8(1, MAX_SHORT_STRING_BYTES),
});

const frame: fc.Arbitrary<InterlinkFrame> = fc.oneof(
  hello.map((h) => ({ kind: 'hello' as const, hello: h })),
  envelope.map((e) => ({ kind: 'stanza' as const, envelope: e })),
  fc.nat({ max: 0xffff_ffff }).map((count) => ({ kind: 'ack' as const, count })),
);

/** Splits bytes at the given cut points (taken modulo the length). */
function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const point of points) {
    if (point > at) out.push(bytes.subarray(at, point));
    at = Math.max(at, point);
  }
  if (at < bytes.length) out.push(bytes.subarray(at));
  return out;
}

const cuts = fc.array(fc.nat(), { maxLength: 30 });

/** Feeds every chunk; checks the decoder's bounds and that a failure is final. */
function decodeAll(parts: Buffer[], maxStanzaBytes = MAX_STANZA) {
  const decoder = new FrameDecoder({ maxStanzaBytes });
  const frames: InterlinkFrame[] = [];
  let error: FrameDecodeError | null = null;
  for (const part of parts) {
    const result = decoder.push(part);
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxFrameBytes(maxStanzaBytes));
    if (error) {
      expect(result.error).toBe(error);
      expect(result.frames).toEqual([]);
      continue;
    }
    frames.push(...result.frames);
    if (result.error) {
      expect(result.error).toBeInstanceOf(FrameDecodeError);
      error = result.error;
    }
  }
  return { frames, error, decoder };
}

// Generous for a loaded machine: each property takes well under a second alone.
describe('interlink codec properties', { timeout: 30_000 }, () => {
  it('round-trips any stream of valid frames through any chunking', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 6 }), cuts, (sent, at) => {
        const bytes = Buffer.concat(
          sent.map((f) => encodeFrame(f, { maxStanzaBytes: MAX_STANZA })),
        );
        const { frames, error, decoder } = decodeAll(chunks(bytes, at));
        expect(error).toBeNull();
        expect(frames).toEqual(sent);
        expect(decoder.bufferedBytes).toBe(0);
      }),
      settings,
    );
  });

  it('encodes arbitrary envelopes or refuses them with FrameEncodeError; what it encodes decodes the same', () => {
    const wild = fc.record({
      ttl: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double()),
      origin: fc.oneof(utf8(0, 300), fc.constant('')),
      stanzaId: utf8(0, 40),
      sentAtUs: fc.oneof(fc.maxSafeNat(), fc.integer(), fc.double()),
      senderKey: utf8(0, 40),
      bounceAttempts: fc.integer({ min: -1, max: 256 }),
      targetNode: fc.option(utf8(0, 300), { nil: null }),
      stanza: fc.oneof(utf8(0, 300), fc.constant('x'.repeat(MAX_STANZA + 1))),
    });
    fc.assert(
      fc.property(wild, (candidate) => {
        let bytes: Buffer;
        try {
          bytes = encodeStanzaFrame(candidate, { maxStanzaBytes: MAX_STANZA });
        } catch (error) {
          expect(error).toBeInstanceOf(FrameEncodeError);
          return;
        }
        const decoded = decodeFrameBody(bytes.subarray(4), MAX_STANZA);
        expect(decoded).not.toBeInstanceOf(FrameDecodeError);
        // An empty target node travels as "none".
        expect(decoded).toEqual({
          kind: 'stanza',
          envelope: { ...candidate, targetNode: candidate.targetNode || null },
        });
      }),
      { ...settings, numRuns: 500 },
    );
  });

  it('never throws on random bytes, and holds at most one maximal frame', () => {
    const plausible = fc
      .tuple(fc.nat({ max: 600 }), fc.uint8Array({ maxLength: 600 }))
      .map(([length, rest]) => {
        const prefix = Buffer.alloc(4);
        prefix.writeUInt32BE(length);
        return Buffer.concat([prefix, Buffer.from([1, rest[0] ?? 2]), rest]);
      });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 800 }).map((b) => Buffer.from(b)),
          plausible,
        ),
        cuts,
        (bytes, at) => {
          decodeAll(chunks(bytes, at), 1024);
        },
      ),
      { ...settings, numRuns: 500 },
    );
  });

  it('on valid streams with bytes inserted, deleted or replaced: no exception, and only frames the codec could write', () => {
    const edit = fc.record({
      kind: fc.constantFrom('insert', 'delete', 'replace', 'flip'),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 4 }),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        cuts,
        (sent, edits, at) => {
          let bytes = Buffer.concat(sent.map((f) => encodeFrame(f)));
          for (const e of edits) {
            const i = e.at % (bytes.length + 1);
            if (e.kind === 'insert') {
              bytes = Buffer.concat([
                bytes.subarray(0, i),
                Buffer.from([e.byte]),
                bytes.subarray(i),
              ]);
            } else if (i < bytes.length) {
              if (e.kind === 'delete')
                bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
              else if (e.kind === 'replace') bytes[i] = e.byte;
              else bytes[i] = bytes[i]! ^ (1 << (e.byte % 8));
            }
          }
          const { frames } = decodeAll(chunks(bytes, at));
          for (const decoded of frames) {
            // Canonical: re-encoding a decoded frame gives a frame that decodes to it again.
            const again = encodeFrame(decoded);
            expect(decodeFrameBody(again.subarray(4), MAX_STANZA)).toEqual(decoded);
          }
        },
      ),
      settings,
    );
  });

  it('refuses a stanza over the limit on both sides, before buffering it', () => {
    fc.assert(
      fc.property(envelope, fc.integer({ min: 1, max: 3 * MAX_STANZA }), cuts, (base, size, at) => {
        const stanza = `<m>${'z'.repeat(size)}</m>`;
        const candidate = { ...base, stanza };
        const over = Buffer.byteLength(stanza) > MAX_STANZA;
        if (over) {
          expect(() => encodeStanzaFrame(candidate, { maxStanzaBytes: MAX_STANZA })).toThrow(
            FrameEncodeError,
          );
        }
        // A peer with a larger limit sends it anyway: this side refuses it and keeps nothing.
        const bytes = Buffer.concat([
          encodeHelloFrame({ localHost: 'dc', node: 'n' }),
          encodeStanzaFrame(candidate),
        ]);
        const { frames, error, decoder } = decodeAll(chunks(bytes, at));
        if (over) {
          expect(error?.code).toBe('oversize');
          expect(frames).toHaveLength(1);
          expect(decoder.bufferedBytes).toBe(0);
        } else {
          expect(error).toBeNull();
          expect(frames).toHaveLength(2);
        }
      }),
      settings,
    );
  });

  it('refuses a length prefix over the limit without allocating for it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: maxFrameBytes(MAX_STANZA) - 3, max: 0xffff_ffff }),
        (length) => {
          const prefix = Buffer.alloc(4);
          prefix.writeUInt32BE(length);
          const decoder = new FrameDecoder({ maxStanzaBytes: MAX_STANZA });
          const result = decoder.push(prefix);
          expect(result.error?.code).toBe('oversize');
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      settings,
    );
  });
});
