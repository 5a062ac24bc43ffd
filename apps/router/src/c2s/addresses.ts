// Clients' IP addresses: written one way whatever the listener gives, and told apart when they
// are on this machine (loopback). auth.allowPlaintext applies to loopback clients only, and
// only a loopback peer is trusted as a WebSocket proxy.
import { isIP } from 'node:net';

/** IPv4-mapped IPv6 addresses as IPv4, as the TCP listener gives them. */
export function normaliseAddress(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4
    ? address.slice(7)
    : address;
}

/** 127.0.0.0/8, ::1, and IPv4-mapped 127.x addresses. */
export function isLoopback(address: string): boolean {
  const normalised = normaliseAddress(address);
  if (isIP(normalised) === 4) return normalised.startsWith('127.');
  return normalised === '::1';
}
