// Frame encoding. Checks every field against the wire format's ranges and the stanza limit, so
// a frame that a peer would refuse (and close the link over) is never written: the caller gets
// a FrameEncodeError instead and can bounce the stanza.
import {
  ACK_BODY_BYTES,
  FRAME_VERSION,
  FrameKind,
  HELLO_FIXED_BYTES,
  LENGTH_PREFIX_BYTES,
  MAX_ID_BYTES,
  MAX_SHORT_STRING_BYTES,
  STANZA_FIXED_HEADER_BYTES,
  TWO_POW_32,
} from './frame-format';
import type { InterlinkEnvelope, InterlinkFrame, InterlinkHello } from './frame-types';

export type FrameEncodeErrorCode = 'oversize' | 'bad-field';

export class FrameEncodeError extends Error {
  constructor(
    readonly code: FrameEncodeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FrameEncodeError';
  }
}

export interface EncodeLimits {
  /** The stanza's UTF-8 length may not exceed this (limits.maxStanzaBytes). */
  maxStanzaBytes: number;
}

/** A frame of any kind, length prefix included. Throws FrameEncodeError. */
export function encodeFrame(frame: InterlinkFrame, limits?: EncodeLimits): Buffer {
  if (frame.kind === 'hello') return encodeHelloFrame(frame.hello);
  if (frame.kind === 'ack') return encodeAckFrame(frame.count);
  return encodeStanzaFrame(frame.envelope, limits);
}

/** An ack of `count` handled stanza frames (taken modulo 2^32, as the counter wraps). */
export function encodeAckFrame(count: number): Buffer {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new FrameEncodeError('bad-field', `ack count must be a whole number >= 0, got ${count}`);
  }
  const out = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + ACK_BODY_BYTES);
  let at = out.writeUInt32BE(ACK_BODY_BYTES, 0);
  at = out.writeUInt8(FRAME_VERSION, at);
  at = out.writeUInt8(FrameKind.ack, at);
  out.writeUInt32BE(count % TWO_POW_32, at);
  return out;
}

export function encodeHelloFrame(hello: InterlinkHello): Buffer {
  const hostBytes = shortStringBytes('localHost', hello.localHost, 1);
  const nodeBytes = shortStringBytes('node', hello.node, 1);
  const body = HELLO_FIXED_BYTES + hostBytes + nodeBytes;
  const out = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + body);
  let at = out.writeUInt32BE(body, 0);
  at = out.writeUInt8(FRAME_VERSION, at);
  at = out.writeUInt8(FrameKind.hello, at);
  at = out.writeUInt8(hostBytes, at);
  at += out.write(hello.localHost, at, 'utf8');
  at = out.writeUInt8(nodeBytes, at);
  out.write(hello.node, at, 'utf8');
  return out;
}

export function encodeStanzaFrame(envelope: InterlinkEnvelope, limits?: EncodeLimits): Buffer {
  const { ttl, bounceAttempts, sentAtUs } = envelope;
  checkByte('ttl', ttl);
  checkByte('bounceAttempts', bounceAttempts);
  if (!Number.isSafeInteger(sentAtUs) || sentAtUs < 0) {
    throw new FrameEncodeError(
      'bad-field',
      `sentAtUs must be a whole number >= 0, got ${sentAtUs}`,
    );
  }
  const originBytes = shortStringBytes('origin', envelope.origin, 1);
  const target = envelope.targetNode ?? '';
  const targetBytes = shortStringBytes('targetNode', target, 0);
  const idBytes = idStringBytes('stanzaId', envelope.stanzaId);
  const keyBytes = idStringBytes('senderKey', envelope.senderKey);
  const stanzaBytes = Buffer.byteLength(envelope.stanza, 'utf8');
  if (stanzaBytes === 0) throw new FrameEncodeError('bad-field', 'the stanza is empty');
  if (limits && stanzaBytes > limits.maxStanzaBytes) {
    throw new FrameEncodeError(
      'oversize',
      `stanza of ${stanzaBytes} bytes is over limits.maxStanzaBytes (${limits.maxStanzaBytes})`,
    );
  }
  const body =
    STANZA_FIXED_HEADER_BYTES + originBytes + targetBytes + idBytes + keyBytes + stanzaBytes;
  if (body > 0xffff_ffff) throw new FrameEncodeError('oversize', 'frame over 4 GiB');

  const out = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + body);
  let at = out.writeUInt32BE(body, 0);
  at = out.writeUInt8(FRAME_VERSION, at);
  at = out.writeUInt8(FrameKind.stanza, at);
  at = out.writeUInt8(ttl, at);
  at = out.writeUInt8(bounceAttempts, at);
  at = out.writeUInt32BE(Math.floor(sentAtUs / TWO_POW_32), at);
  at = out.writeUInt32BE(sentAtUs % TWO_POW_32, at);
  at = out.writeUInt8(originBytes, at);
  at += out.write(envelope.origin, at, 'utf8');
  at = out.writeUInt8(targetBytes, at);
  at += out.write(target, at, 'utf8');
  at = out.writeUInt16BE(idBytes, at);
  at += out.write(envelope.stanzaId, at, 'utf8');
  at = out.writeUInt16BE(keyBytes, at);
  at += out.write(envelope.senderKey, at, 'utf8');
  out.write(envelope.stanza, at, 'utf8');
  return out;
}

function checkByte(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new FrameEncodeError('bad-field', `${field} must be a whole number 0-255, got ${value}`);
  }
}

function shortStringBytes(field: string, value: string, min: number): number {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < min || bytes > MAX_SHORT_STRING_BYTES) {
    throw new FrameEncodeError(
      'bad-field',
      `${field} must be ${min}-${MAX_SHORT_STRING_BYTES} bytes of UTF-8, got ${bytes}`,
    );
  }
  return bytes;
}

function idStringBytes(field: string, value: string): number {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_ID_BYTES) {
    throw new FrameEncodeError('bad-field', `${field} is ${bytes} bytes, over ${MAX_ID_BYTES}`);
  }
  return bytes;
}
