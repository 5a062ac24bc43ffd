// JIDs (RFC 7622), normalised the way routing compares them: localpart and domain
// case-folded, resource kept as given. Parsing never throws on network input: it returns
// null for anything that is not a JID.

export interface Jid {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
}

const MAX_PART_BYTES = 1023;
// Characters RFC 7622 forbids in a localpart.
const FORBIDDEN_LOCAL = /["&'/:<>@\s]/;

export function parseJid(raw: string): Jid | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 3071) return null;
  const slash = raw.indexOf('/');
  const bare = slash === -1 ? raw : raw.slice(0, slash);
  const resource = slash === -1 ? '' : raw.slice(slash + 1);
  const at = bare.indexOf('@');
  const local = at === -1 ? '' : bare.slice(0, at);
  const domain = (at === -1 ? bare : bare.slice(at + 1)).toLowerCase().replace(/\.$/, '');
  if (at !== -1 && local.length === 0) return null;
  if (slash !== -1 && resource.length === 0) return null;
  if (domain.length === 0 || domain.includes('@') || /[\s/]/.test(domain)) return null;
  // An empty label ('a..b', '.a', or 'a..' with one dot stripped) is no domain name, and
  // 'a..' would otherwise become 'a.' here and 'a' when its string form is parsed again.
  if (domain.startsWith('.') || domain.endsWith('.') || domain.includes('..')) return null;
  if (FORBIDDEN_LOCAL.test(local)) return null;
  // Bounded after case-folding, which can lengthen a part ('İ' is 2 bytes, 'i̇' 3), so that
  // the string form of every JID accepted here parses again.
  const folded = local.toLowerCase();
  if (tooLong(folded) || tooLong(domain) || tooLong(resource)) return null;
  return { local: folded, domain, resource };
}

function tooLong(part: string): boolean {
  return part.length > MAX_PART_BYTES || Buffer.byteLength(part) > MAX_PART_BYTES;
}

export function jid(local: string, domain: string, resource = ''): Jid {
  return { local: local.toLowerCase(), domain: domain.toLowerCase(), resource };
}

export function bareOf(j: Jid): Jid {
  return j.resource === '' ? j : { local: j.local, domain: j.domain, resource: '' };
}

export function isBare(j: Jid): boolean {
  return j.resource === '';
}

/** A JID with no localpart: a server, a datacenter or a component. */
export function isDomainJid(j: Jid): boolean {
  return j.local === '';
}

export function jidToString(j: Jid): string {
  const bare = j.local === '' ? j.domain : `${j.local}@${j.domain}`;
  return j.resource === '' ? bare : `${bare}/${j.resource}`;
}

export function bareString(j: Jid): string {
  return j.local === '' ? j.domain : `${j.local}@${j.domain}`;
}

export function sameJid(a: Jid, b: Jid): boolean {
  return a.local === b.local && a.domain === b.domain && a.resource === b.resource;
}
