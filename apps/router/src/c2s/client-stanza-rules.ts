// Checks on what a client sends that RFC 6120 spells out. Pure.
import type { Element } from 'ltx';

/** RFC 7622 bounds every JID part to 1023 bytes. */
const MAX_RESOURCE_BYTES = 1023;

/** A resource a client may bind: not too long, no control characters. */
export function validResource(resource: string): boolean {
  if (resource.trim() === '' || Buffer.byteLength(resource) > MAX_RESOURCE_BYTES) return false;
  for (let i = 0; i < resource.length; i++) {
    const code = resource.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

/** RFC 6120 §8.2.3: an iq has an id and a known type; get and set carry exactly one payload. */
export function validIq(iq: Element): boolean {
  const type = iq.attrs.type;
  if (!iq.attrs.id) return false;
  if (type === 'get' || type === 'set') {
    return iq.children.filter((child) => typeof child !== 'string').length === 1;
  }
  return type === 'result' || type === 'error';
}
