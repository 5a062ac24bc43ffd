import { createHash } from 'node:crypto';
import type { MeridianConfigDocument } from './documents';

/**
 * JSON with the keys of every object sorted, so that equal documents serialise
 * identically whatever order their keys were written in. Array order is kept.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(item).sort()) {
      Object.defineProperty(sorted, key, {
        value: (item as Record<string, unknown>)[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return sorted;
  });
}

/**
 * SHA-256 (hex) of the canonical JSON of a document. It covers the secrets, so a
 * changed secret changes the hash.
 */
export function configHash(doc: MeridianConfigDocument): string {
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}
