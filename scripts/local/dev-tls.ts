// The local installation's TLS material, made with the openssl CLI on first run and kept in
// `.local/tls/`: a dev CA, and one certificate per router node (valid for example.com, its
// subdomains, localhost and 127.0.0.1; server and client use, so the same file serves c2s
// STARTTLS and mutual TLS on the links). A missing, expiring or foreign certificate is made
// again; everything else is reused.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NodeTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export const CERT_NAMES = ['example.com', '*.example.com', 'localhost'];
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const RENEW_BEFORE_S = 7 * 86_400;

function openssl(cwd: string, ...args: string[]): string {
  return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function usable(dir: string, cert: string, check: string[][]): boolean {
  if (!existsSync(join(dir, cert))) return false;
  try {
    openssl(dir, 'x509', '-in', cert, '-noout', '-checkend', String(RENEW_BEFORE_S));
    for (const args of check) openssl(dir, ...args);
    return true;
  } catch {
    return false;
  }
}

/** Makes what is missing; returns the files of each node and what was made. */
export function ensureDevTls(
  dir: string,
  nodes: readonly string[],
): { nodes: Record<string, NodeTls>; caFile: string; made: string[] } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const made: string[] = [];
  const caFile = join(dir, 'ca.crt');
  if (!usable(dir, 'ca.crt', []) || !existsSync(join(dir, 'ca.key'))) {
    openssl(
      dir,
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '3650',
      '-subj',
      '/CN=Meridian local dev CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    made.push('ca.crt');
    for (const node of nodes) rmSync(join(dir, `${node}.crt`), { force: true });
  }
  const result: Record<string, NodeTls> = {};
  for (const node of nodes) {
    const cert = `${node}.crt`;
    const key = `${node}.key`;
    const fresh =
      existsSync(join(dir, key)) && usable(dir, cert, [['verify', '-CAfile', 'ca.crt', cert]]);
    if (!fresh) {
      const san = [...CERT_NAMES.map((name) => `DNS:${name}`), 'IP:127.0.0.1'].join(',');
      writeFileSync(
        join(dir, `${node}.ext`),
        `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n` +
          'extendedKeyUsage=serverAuth,clientAuth\n',
      );
      openssl(
        dir,
        'req',
        ...EC,
        '-keyout',
        key,
        '-out',
        `${node}.csr`,
        '-subj',
        `/CN=${node}.example.com`,
      );
      openssl(
        dir,
        'x509',
        '-req',
        '-in',
        `${node}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        cert,
        '-days',
        '825',
        '-extfile',
        `${node}.ext`,
      );
      rmSync(join(dir, `${node}.csr`), { force: true });
      rmSync(join(dir, `${node}.ext`), { force: true });
      made.push(cert);
    }
    result[node] = { certFile: join(dir, cert), keyFile: join(dir, key), caFile };
  }
  return { nodes: result, caFile, made };
}
