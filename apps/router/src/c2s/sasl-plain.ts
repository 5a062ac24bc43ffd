// SASL PLAIN (RFC 4616) message decoding: `[authzid] NUL authcid NUL passwd`, base64 on the
// wire (RFC 6120 §6.4.2; "=" is an empty response). Pure: no I/O.

export interface PlainCredentials {
  readonly authzid: string;
  readonly authcid: string;
  readonly password: string;
}

export type PlainDecodeFailure = 'incorrect-encoding' | 'malformed-request';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes the base64 text of <auth/> or <response/>; null when it is empty. */
export function decodePlain(text: string): PlainCredentials | PlainDecodeFailure {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || compact === '=') return 'malformed-request';
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return 'incorrect-encoding';
  const decoded = Buffer.from(compact, 'base64').toString('utf8');
  const parts = decoded.split('\u0000');
  if (parts.length !== 3) return 'malformed-request';
  const [authzid, authcid, password] = parts as [string, string, string];
  if (authcid === '' || password === '') return 'malformed-request';
  return { authzid, authcid, password };
}

/** The text of a PLAIN message, as a client builds it (tests, tools). */
export function encodePlain(authcid: string, password: string, authzid = ''): string {
  return Buffer.from(`${authzid}\u0000${authcid}\u0000${password}`, 'utf8').toString('base64');
}
