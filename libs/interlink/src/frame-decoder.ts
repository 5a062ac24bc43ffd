// Streaming frame decoder for one link. Takes the socket's chunks as they come (a frame may be
// split anywhere, a chunk may hold many frames) and returns whole frames. Bad input is reported
// as a FrameDecodeError value, never thrown, and is final: the link is to be closed.
// Memory: between chunks it holds at most one partial frame, and a length prefix over the
// limit is refused before anything is allocated for it.
import { isUtf8 } from 'node:buffer';
import {
  ACK_BODY_BYTES,
  COMMON_HEADER_BYTES,
  FRAME_VERSION,
  FrameKind,
  HELLO_FIXED_BYTES,
  LENGTH_PREFIX_BYTES,
  MAX_ID_BYTES,
  maxBodyBytes,
  STANZA_FIXED_HEADER_BYTES,
  TWO_POW_32,
} from './frame-format';
import type { InterlinkFrame } from './frame-types';

export type FrameDecodeErrorCode =
  /** The length prefix or the stanza is over the limit. */
  | 'oversize'
  /** The body is shorter than the fixed header of its kind. */
  | 'truncated-header'
  | 'bad-version'
  | 'bad-kind'
  /** A string length runs past the body, or bytes are left over. */
  | 'bad-length'
  | 'bad-utf8'
  /** A field out of its range (empty origin or stanza, send time beyond 2^53). */
  | 'bad-field';

export class FrameDecodeError extends Error {
  constructor(
    readonly code: FrameDecodeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FrameDecodeError';
  }
}

export interface DecodeResult {
  /** The whole frames completed by this chunk, in order (also those before an error). */
  frames: InterlinkFrame[];
  /** Set once the stream is bad; every later push returns it again and no frames. */
  error: FrameDecodeError | null;
}

export interface FrameDecoderOptions {
  /** limits.maxStanzaBytes of this node; the header allowance is added to it. */
  maxStanzaBytes: number;
}

export class FrameDecoder {
  private readonly maxBody: number;
  private readonly maxStanza: number;
  private readonly prefix = Buffer.alloc(LENGTH_PREFIX_BYTES);
  private prefixHave = 0;
  /** The partial body, allocated at its announced length once the prefix is known. */
  private body: Buffer | null = null;
  private bodyHave = 0;
  private failure: FrameDecodeError | null = null;

  constructor(options: FrameDecoderOptions) {
    this.maxStanza = options.maxStanzaBytes;
    this.maxBody = maxBodyBytes(options.maxStanzaBytes);
  }

  /** Bytes held for an incomplete frame (never more than one maximal frame). */
  get bufferedBytes(): number {
    return this.prefixHave + (this.body?.length ?? 0);
  }

  get failed(): FrameDecodeError | null {
    return this.failure;
  }

  push(chunk: Uint8Array): DecodeResult {
    const frames: InterlinkFrame[] = [];
    if (this.failure) return { frames, error: this.failure };
    const data = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let at = 0;
    while (at < data.length) {
      if (this.body) {
        const copied = data.copy(this.body, this.bodyHave, at);
        at += copied;
        this.bodyHave += copied;
        if (this.bodyHave < this.body.length) break;
        const body = this.body;
        this.body = null;
        if (!this.accept(decodeFrameBody(body, this.maxStanza), frames)) break;
        continue;
      }
      let length: number;
      if (this.prefixHave === 0 && data.length - at >= LENGTH_PREFIX_BYTES) {
        length = data.readUInt32BE(at);
        at += LENGTH_PREFIX_BYTES;
      } else {
        const copied = data.copy(this.prefix, this.prefixHave, at, at + LENGTH_PREFIX_BYTES);
        at += copied;
        this.prefixHave += copied;
        if (this.prefixHave < LENGTH_PREFIX_BYTES) break;
        this.prefixHave = 0;
        length = this.prefix.readUInt32BE(0);
      }
      if (length > this.maxBody) {
        this.fail('oversize', `frame of ${length} bytes is over the limit of ${this.maxBody}`);
        break;
      }
      if (length < COMMON_HEADER_BYTES) {
        this.fail('truncated-header', `frame of ${length} bytes has no header`);
        break;
      }
      if (data.length - at >= length) {
        // The whole body is in this chunk: decode it in place, no copy.
        const decoded = decodeFrameBody(data.subarray(at, at + length), this.maxStanza);
        at += length;
        if (!this.accept(decoded, frames)) break;
      } else {
        this.body = Buffer.allocUnsafe(length);
        this.bodyHave = data.copy(this.body, 0, at);
        at = data.length;
      }
    }
    return { frames, error: this.failure };
  }

  private accept(decoded: InterlinkFrame | FrameDecodeError, frames: InterlinkFrame[]): boolean {
    if (decoded instanceof FrameDecodeError) {
      this.failure = decoded;
      this.body = null;
      return false;
    }
    frames.push(decoded);
    return true;
  }

  private fail(code: FrameDecodeErrorCode, message: string): void {
    this.failure = new FrameDecodeError(code, message);
    this.body = null;
    this.prefixHave = 0;
  }
}

/** Decodes one frame body (the bytes after the length prefix). */
export function decodeFrameBody(
  body: Buffer,
  maxStanzaBytes: number,
): InterlinkFrame | FrameDecodeError {
  if (body.length < COMMON_HEADER_BYTES) {
    return new FrameDecodeError('truncated-header', `frame of ${body.length} bytes has no header`);
  }
  const version = body[0];
  if (version !== FRAME_VERSION) {
    return new FrameDecodeError(
      'bad-version',
      `format version ${version} is not spoken here (${FRAME_VERSION} is)`,
    );
  }
  const kind = body[1];
  if (kind === FrameKind.hello) return decodeHello(new BodyReader(body, COMMON_HEADER_BYTES));
  if (kind === FrameKind.stanza) {
    return decodeStanza(new BodyReader(body, COMMON_HEADER_BYTES), maxStanzaBytes);
  }
  if (kind === FrameKind.ack) {
    if (body.length !== ACK_BODY_BYTES) {
      return new FrameDecodeError(
        'bad-length',
        `ack frame of ${body.length} bytes (${ACK_BODY_BYTES} expected)`,
      );
    }
    return { kind: 'ack', count: body.readUInt32BE(COMMON_HEADER_BYTES) };
  }
  return new FrameDecodeError('bad-kind', `unknown frame kind ${kind}`);
}

function decodeHello(reader: BodyReader): InterlinkFrame | FrameDecodeError {
  if (reader.body.length < HELLO_FIXED_BYTES) {
    return new FrameDecodeError('truncated-header', 'hello frame shorter than its header');
  }
  const localHost = reader.string('localHost', reader.u8());
  if (localHost instanceof FrameDecodeError) return localHost;
  const node = reader.string('node', reader.u8());
  if (node instanceof FrameDecodeError) return node;
  if (localHost === '' || node === '') {
    return new FrameDecodeError('bad-field', 'hello without localHost or node');
  }
  if (reader.remaining !== 0) {
    return new FrameDecodeError('bad-length', `${reader.remaining} bytes after the hello`);
  }
  return { kind: 'hello', hello: { localHost, node } };
}

function decodeStanza(
  reader: BodyReader,
  maxStanzaBytes: number,
): InterlinkFrame | FrameDecodeError {
  if (reader.body.length < STANZA_FIXED_HEADER_BYTES) {
    return new FrameDecodeError('truncated-header', 'stanza frame shorter than its header');
  }
  const ttl = reader.u8();
  const bounceAttempts = reader.u8();
  const high = reader.u32();
  const low = reader.u32();
  // Beyond 2^53 microseconds a number loses precision (and that is year 2255 anyway).
  if (high >= 0x20_0000) return new FrameDecodeError('bad-field', 'send time out of range');
  const sentAtUs = high * TWO_POW_32 + low;

  const origin = reader.string('origin', reader.u8());
  if (origin instanceof FrameDecodeError) return origin;
  if (origin === '') return new FrameDecodeError('bad-field', 'stanza frame without origin');
  const target = reader.string('targetNode', reader.u8());
  if (target instanceof FrameDecodeError) return target;
  const stanzaId = reader.string('stanzaId', reader.u16(), MAX_ID_BYTES);
  if (stanzaId instanceof FrameDecodeError) return stanzaId;
  const senderKey = reader.string('senderKey', reader.u16(), MAX_ID_BYTES);
  if (senderKey instanceof FrameDecodeError) return senderKey;

  if (reader.remaining > maxStanzaBytes) {
    return new FrameDecodeError(
      'oversize',
      `stanza of ${reader.remaining} bytes is over limits.maxStanzaBytes (${maxStanzaBytes})`,
    );
  }
  if (reader.remaining === 0) return new FrameDecodeError('bad-field', 'empty stanza');
  const stanza = reader.string('stanza', reader.remaining);
  if (stanza instanceof FrameDecodeError) return stanza;
  return {
    kind: 'stanza',
    envelope: {
      ttl,
      origin,
      stanzaId,
      sentAtUs,
      senderKey,
      bounceAttempts,
      targetNode: target === '' ? null : target,
      stanza,
    },
  };
}

/** Sequential reads over a body whose fixed part is known to be present. */
class BodyReader {
  constructor(
    readonly body: Buffer,
    private at: number,
  ) {}

  get remaining(): number {
    return this.body.length - this.at;
  }

  u8(): number {
    // A length byte may be missing when a previous string was long: read as a bad length.
    return this.at < this.body.length ? this.body[this.at++] : -1;
  }

  u16(): number {
    if (this.at + 2 > this.body.length) return -1;
    const value = this.body.readUInt16BE(this.at);
    this.at += 2;
    return value;
  }

  u32(): number {
    const value = this.body.readUInt32BE(this.at);
    this.at += 4;
    return value;
  }

  string(field: string, length: number, max = Infinity): string | FrameDecodeError {
    if (length < 0) return new FrameDecodeError('bad-length', `no room for the ${field} length`);
    if (length > max) {
      return new FrameDecodeError('bad-length', `${field} of ${length} bytes is over ${max}`);
    }
    const end = this.at + length;
    if (end > this.body.length) {
      return new FrameDecodeError('bad-length', `${field} length ${length} runs past the frame`);
    }
    const bytes = this.body.subarray(this.at, end);
    if (!isUtf8(bytes)) return new FrameDecodeError('bad-utf8', `${field} is not valid UTF-8`);
    this.at = end;
    return bytes.toString('utf8');
  }
}
