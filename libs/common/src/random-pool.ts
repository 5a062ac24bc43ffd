// Cryptographically random identifiers (stream ids, generated resources, notice tokens) from a
// pool filled 4 KiB at a time: the same bytes crypto.randomBytes would give, without a
// getrandom system call for every login.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` random bytes (at most 256); each byte is handed out once. */
export function randomPoolBytes(bytes: number): Buffer {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 256) {
    throw new RangeError(`randomPoolBytes takes 1 to 256 bytes, not ${bytes}`);
  }
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + bytes));
  // Handed out bytes are wiped, so a copy of the pool never holds past identifiers.
  pool.fill(0, offset, offset + bytes);
  offset += bytes;
  return out;
}

export const randomHex = (bytes: number): string => randomPoolBytes(bytes).toString('hex');
export const randomBase64url = (bytes: number): string =>
  randomPoolBytes(bytes).toString('base64url');
