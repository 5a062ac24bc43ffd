// Generated inputs: random envelopes round-trip through random chunkings, and random or
// mutated bytes never make the decoder throw or hold more than one maximal frame.
import { describe, expect, it } from 'vitest';
import { encodeFrame, encodeHelloFrame, encodeStanzaFrame } from './encode-frame';
import { FrameDecoder } from './frame-decoder';
import { maxFrameBytes } from './frame-format';
import type { InterlinkEnvelope, InterlinkFrame } from './frame-types';

const MAX_STANZA = 4096;

/** mulberry32: small seeded PRNG so a failure replays. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'Z', '0', '<', '>', "'", '&', 'é', 'ß', '中', '👋', '\u0000', ' '];

function randomString(random: () => number, maxChars: number, maxBytes: number): string {
  let out = '';
  const length = Math.floor(random() * (maxChars + 1));
  for (let i = 0; i < length; i++) {
    const next = out + ALPHABET[Math.floor(random() * ALPHABET.length)];
    if (Buffer.byteLength(next) > maxBytes) break;
    out = next;
  }
  return out;
}

function randomEnvelope(random: () => number): InterlinkEnvelope {
  return {
    ttl: Math.floor(random() * 256),
    origin: 'd' + randomString(random, 40, 254),
    stanzaId: randomString(random, 20, 3072),
    sentAtUs: Math.floor(random() * Number.MAX_SAFE_INTEGER),
    senderKey: randomString(random, 60, 3072),
    bounceAttempts: Math.floor(random() * 256),
    targetNode: random() < 0.5 ? null : 'n' + randomString(random, 20, 254),
    stanza: '<' + randomString(random, random() < 0.1 ? 1500 : 80, MAX_STANZA - 1),
  };
}

function randomChunks(bytes: Buffer, random: () => number, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(random() * maxChunk);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

describe('frame codec on generated input', () => {
  it('round-trips 300 random streams of random envelopes through random chunkings', () => {
    const random = prng(42);
    for (let run = 0; run < 300; run++) {
      const expected: InterlinkFrame[] = [
        { kind: 'hello', hello: { localHost: 'dc', node: `n${run}` } },
      ];
      const parts = [encodeHelloFrame({ localHost: 'dc', node: `n${run}` })];
      const count = 1 + Math.floor(random() * 10);
      for (let i = 0; i < count; i++) {
        const envelope = randomEnvelope(random);
        expected.push({
          kind: 'stanza',
          envelope: { ...envelope, targetNode: envelope.targetNode || null },
        });
        parts.push(encodeStanzaFrame(envelope, { maxStanzaBytes: MAX_STANZA }));
      }
      const decoder = new FrameDecoder({ maxStanzaBytes: MAX_STANZA });
      const got: InterlinkFrame[] = [];
      for (const chunk of randomChunks(
        Buffer.concat(parts),
        random,
        1 + Math.floor(random() * 3000),
      )) {
        const result = decoder.push(chunk);
        expect(result.error, `run ${run}`).toBeNull();
        got.push(...result.frames);
        expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxFrameBytes(MAX_STANZA));
      }
      expect(got, `run ${run}`).toEqual(expected);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('never throws on random bytes, and buffers at most one maximal frame', () => {
    const random = prng(7);
    let errors = 0;
    for (let run = 0; run < 3000; run++) {
      const length = Math.floor(random() * 400);
      const bytes = Buffer.alloc(length);
      for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
      // Small first bytes make plausible lengths, so the body decoders see garbage too.
      if (length > 4 && random() < 0.7) bytes.writeUInt32BE(Math.floor(random() * (length - 4)), 0);
      const decoder = new FrameDecoder({ maxStanzaBytes: 1024 });
      for (const chunk of randomChunks(bytes, random, 64)) {
        const result = decoder.push(chunk);
        expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxFrameBytes(1024));
        if (result.error) {
          errors++;
          break;
        }
      }
    }
    expect(errors).toBeGreaterThan(1000);
  });

  it('never throws on valid streams with bytes flipped; what it decodes re-encodes', () => {
    const random = prng(99);
    for (let run = 0; run < 2000; run++) {
      const bytes = Buffer.concat([
        encodeHelloFrame({ localHost: 'dc1', node: 'a' }),
        encodeStanzaFrame(randomEnvelope(random)),
        encodeStanzaFrame(randomEnvelope(random)),
      ]);
      const flips = 1 + Math.floor(random() * 3);
      for (let i = 0; i < flips; i++)
        bytes[Math.floor(random() * bytes.length)] ^= 1 << Math.floor(random() * 8);
      const decoder = new FrameDecoder({ maxStanzaBytes: MAX_STANZA });
      for (const chunk of randomChunks(bytes, random, 200)) {
        const { frames, error } = decoder.push(chunk);
        for (const frame of frames) {
          // Whatever passed the decoder is a frame this codec could have written.
          expect(() => encodeFrame(frame)).not.toThrow();
        }
        if (error) break;
      }
    }
  });
});
