// Domain names as Meridian compares them: ASCII (internationalised names in their
// xn-- form), case-insensitive, stored in lower case without a trailing dot.

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const ALL_DIGITS = /^[0-9]+$/;

/**
 * True when `s` is a syntactically valid DNS name: 1 to 253 characters, labels of
 * 1 to 63 letters, digits and inner hyphens, and a last label that is not all digits
 * (so IPv4 literals are refused). Letter case is accepted; surrounding whitespace and
 * a trailing dot are not — pass the value through {@link normalizeDomain} first.
 * A single label (`localhost`) is valid.
 */
export function isValidDomainName(s: string): boolean {
  if (typeof s !== 'string' || s.length === 0 || s.length > 253) return false;
  const labels = s.split('.');
  if (!labels.every((label) => DNS_LABEL.test(label))) return false;
  return !ALL_DIGITS.test(labels[labels.length - 1]);
}

/**
 * The canonical form of a domain: trimmed, lower case, without the trailing dot
 * that RFC 7622 says must be stripped before comparison. Does not validate.
 */
export function normalizeDomain(s: string): string {
  const lowered = s.trim().toLowerCase();
  return lowered.endsWith('.') ? lowered.slice(0, -1) : lowered;
}

/** The parents of a (normalised) domain, nearest first: a.b.c -> b.c, c. */
export function parentDomains(domain: string): string[] {
  const parents: string[] = [];
  for (let dot = domain.indexOf('.'); dot !== -1; dot = domain.indexOf('.', dot + 1)) {
    parents.push(domain.slice(dot + 1));
  }
  return parents;
}
