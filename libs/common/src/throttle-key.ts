// The key under which failures from a client address are counted (failed logins, attempts in
// progress, wrong handshakes, failed bearer tokens). An IPv6 subscriber gets a whole /64 (a
// home connection, a cloud instance), so counting each address apart would give the holder
// of one prefix the limit 2^64 times: IPv6 addresses are counted by their /64. IPv4 addresses,
// and IPv4-mapped IPv6 ones written as them, are counted one by one. Pure.
import { isIP } from 'node:net';

/**
 * `2001:db8::1` -> `2001:db8:0:0::/64`; `::ffff:192.0.2.1` and `192.0.2.1` -> `192.0.2.1`;
 * `::1` stays `::1` (no prefix stands behind it). A zone id (`fe80::1%eth0`) is dropped: it
 * names the interface, not part of the address. Anything else is returned as it is.
 */
export function throttleKey(address: string): string {
  if (isIP(address) === 4) return address;
  const bare = address.split('%', 1)[0]!;
  if (isIP(bare) !== 6) return address;
  const groups = ipv6Groups(bare);
  const [g6 = 0, g7 = 0] = groups.slice(6);
  if (groups.slice(0, 5).every((g) => g === 0)) {
    if (groups[5] === 0xffff) return `${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`;
    if (groups[5] === 0 && g6 === 0 && g7 === 1) return '::1';
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail too). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    const tail = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    text = text.slice(0, dotted.index) + tail;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}
