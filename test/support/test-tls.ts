// A private CA and a server certificate for the c2s tests, made with the openssl CLI in a tmp
// directory. The integration tests' global setup makes them once per run and points
// NODE_EXTRA_CA_CERTS at the CA before the test workers start, so real clients (xmpp.js has
// no option for a CA on STARTTLS) verify the routers' certificate against it, name included.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestTls {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** The names the server certificate is valid for: the test domains and their subdomains. */
export const TEST_CERT_NAMES = [
  'example.com',
  '*.example.com',
  'example.net',
  '*.example.net',
  'localhost',
];

export const TEST_TLS_DIR_ENV = 'MERIDIAN_TEST_TLS_DIR';

export function makeTestTls(dir = mkdtempSync(join(tmpdir(), 'meridian-tls-'))): TestTls {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=Meridian test CA',
  );
  openssl(
    'req',
    ...ec,
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    '/CN=example.com',
  );
  const san = [...TEST_CERT_NAMES.map((name) => `DNS:${name}`), 'IP:127.0.0.1'].join(',');
  writeFileSync(
    file('server.ext'),
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n` +
      'extendedKeyUsage=serverAuth,clientAuth\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.crt'),
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
  );
  return { dir, caFile: file('ca.crt'), certFile: file('server.crt'), keyFile: file('server.key') };
}

/** The run's test TLS material (made by the global setup), or a fresh one. */
export function testTls(): TestTls {
  const dir = process.env[TEST_TLS_DIR_ENV];
  if (dir && existsSync(join(dir, 'server.crt'))) {
    const file = (name: string) => join(dir, name);
    return {
      dir,
      caFile: file('ca.crt'),
      certFile: file('server.crt'),
      keyFile: file('server.key'),
    };
  }
  return makeTestTls();
}

/** Whether this process trusts the test CA (NODE_EXTRA_CA_CERTS is read at process start). */
export function processTrustsTestCa(tls: TestTls): boolean {
  return process.env.NODE_EXTRA_CA_CERTS === tls.caFile;
}
