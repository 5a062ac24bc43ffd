// The interlink wire format, version 1 (ARCHITECTURE §7). Every integer is big-endian.
//
//   u32 body length (bytes after this prefix)
//   body:
//     u8  format version (1)
//     u8  kind: 1 hello | 2 stanza | 3 ack
//   hello:
//     u8 localHost length (1-255), localHost UTF-8
//     u8 node length (1-255), node UTF-8
//   stanza:
//     u8  ttl (0-255)
//     u8  bounce attempts (0-255)
//     u32 send time in microseconds since the epoch, high 32 bits
//     u32 send time, low 32 bits
//     u8  origin localHost length (1-255), origin UTF-8
//     u8  target node length (0 = none), target node UTF-8
//     u16 stanza id length (0-3072), stanza id UTF-8
//     u16 sender key length (1-3072), sender key UTF-8
//     the stanza XML, UTF-8 (1..maxStanzaBytes bytes): the rest of the body
//   ack (the only frame that travels back, from the accepting node to the dialling one):
//     u32 stanza frames of this link handled so far, modulo 2^32
//
// The hello and stanzas go from the dialling node to the accepting one; acks come back on the
// same connection. A node that acknowledges sends ack 0 as soon as it has read the hello, so a
// dialling node learns whether its peer acknowledges at all (a node of an earlier release
// never writes on a link, and one that dials discards what it reads on it).
//
// A whole frame is therefore at most 4 + HEADER_ALLOWANCE + maxStanzaBytes bytes.

export const FRAME_VERSION = 1;

export const FrameKind = { hello: 1, stanza: 2, ack: 3 } as const;

export const LENGTH_PREFIX_BYTES = 4;
/** Version and kind. */
export const COMMON_HEADER_BYTES = 2;
/** version, kind, ttl, bounce attempts, send time, and the four string length fields. */
export const STANZA_FIXED_HEADER_BYTES = 2 + 1 + 1 + 8 + 1 + 1 + 2 + 2;
/** version, kind and the two string length fields. */
export const HELLO_FIXED_BYTES = 2 + 1 + 1;
/** version, kind and the count: an ack body has exactly this length. */
export const ACK_BODY_BYTES = 2 + 4;

/** Longest stanza id and sender key: a JID is at most 3071 bytes (RFC 7622). */
export const MAX_ID_BYTES = 3072;
export const MAX_SHORT_STRING_BYTES = 255;
/**
 * Room for the stanza header on top of maxStanzaBytes. The largest possible header is
 * 18 + 255 + 255 + 3072 + 3072 = 6672 bytes; the rest is slack for a later version.
 */
export const HEADER_ALLOWANCE = 8192;

/** Largest body (after the length prefix) a peer with this stanza limit accepts. */
export function maxBodyBytes(maxStanzaBytes: number): number {
  return maxStanzaBytes + HEADER_ALLOWANCE;
}

/** Largest whole frame (length prefix included) for this stanza limit. */
export function maxFrameBytes(maxStanzaBytes: number): number {
  return LENGTH_PREFIX_BYTES + maxBodyBytes(maxStanzaBytes);
}

/** 2^32, to split a microsecond timestamp into two u32 halves without BigInt. */
export const TWO_POW_32 = 0x1_0000_0000;
