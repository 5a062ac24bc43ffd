// What request logs keep of a URL: a client may put a credential in the query string
// (`?access_token=...`), and the log must not carry it even when the request is refused.

const CREDENTIAL_NAME = /token|secret|password|passwd|key|auth/i;
const REDACTED = '**redacted**';

/** `url` with credential-named query values and any admin token replaced by a placeholder. */
export function loggedUrl(url: string, tokens: readonly string[]): string {
  const at = url.indexOf('?');
  let logged =
    at < 0
      ? url
      : `${url.slice(0, at)}?${url
          .slice(at + 1)
          .split('&')
          .map((pair) => {
            const eq = pair.indexOf('=');
            const name = eq < 0 ? pair : pair.slice(0, eq);
            return eq >= 0 && CREDENTIAL_NAME.test(safeDecode(name)) ? `${name}=${REDACTED}` : pair;
          })
          .join('&')}`;
  for (const token of tokens) {
    for (const form of new Set([token, encodeURIComponent(token)])) {
      logged = logged.split(form).join(REDACTED);
    }
  }
  return logged;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
