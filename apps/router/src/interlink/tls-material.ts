// Certificates for mutual TLS on the links, read from the TLS_* files. Read again on every
// configuration change, so rotated files are picked up by the next revision; a change of
// their content rebuilds the pools like any other link change.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import { InterlinkConfigError } from './interlink-errors';

export interface TlsFiles {
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly caFile?: string;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  /** Digest of the three files, to notice a rotation. */
  readonly digest: string;
}

/** Throws InterlinkConfigError naming every missing or unreadable file. */
export function loadTlsMaterial(files: TlsFiles): TlsMaterial {
  const problems: string[] = [];
  const read = (name: string, path: string | undefined): Buffer => {
    if (!path) {
      problems.push(`${name} is not set`);
      return Buffer.alloc(0);
    }
    try {
      return readFileSync(path);
    } catch (err) {
      problems.push(`${name} (${path}) cannot be read: ${(err as Error).message}`);
      return Buffer.alloc(0);
    }
  };
  const cert = read('TLS_CERT', files.certFile);
  const key = read('TLS_KEY', files.keyFile);
  const ca = read('TLS_CA', files.caFile);
  if (problems.length > 0) {
    throw new InterlinkConfigError(
      `connections.tls.enabled is true but this node cannot do mutual TLS: ${problems.join('; ')}`,
    );
  }
  const digest = createHash('sha256').update(cert).update(key).update(ca).digest('hex');
  return { cert, key, ca, digest };
}

/** The listener's side: a client certificate signed by our CA is required. */
export function serverTlsOptions(material: TlsMaterial, handshakeTimeoutMs: number): TlsOptions {
  return {
    cert: material.cert,
    key: material.key,
    ca: material.ca,
    requestCert: true,
    rejectUnauthorized: true,
    handshakeTimeout: handshakeTimeoutMs,
    minVersion: 'TLSv1.2',
  };
}

/**
 * The dialling side. The peer must present a certificate of our CA; its name is not checked,
 * because endpoints are IP addresses read from Redis and the private CA (which signs only
 * Meridian nodes) is what authenticates a node. Operators who want name checks can issue
 * certificates with IP SANs; this is the decision documented in the interlink README.
 */
export function clientTlsOptions(
  material: TlsMaterial,
  host: string,
  port: number,
): ConnectionOptions {
  return {
    host,
    port,
    cert: material.cert,
    key: material.key,
    ca: material.ca,
    rejectUnauthorized: true,
    checkServerIdentity: () => undefined,
    minVersion: 'TLSv1.2',
    // TLS 1.2 on purpose. With TLS 1.3 the client's handshake ends before the server has
    // checked the client certificate, so a node whose certificate the peer refuses (expired,
    // another CA) saw the link as up, wrote its queue into it and lost it when the peer hung
    // up. With 1.2 'secureConnect' means the peer accepted us: refused, the frames stay queued
    // until a renewed certificate carries them (test/faults/interlink-faults.test.ts).
    maxVersion: 'TLSv1.2',
  };
}
