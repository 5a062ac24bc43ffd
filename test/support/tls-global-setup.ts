// Vitest global setup of the integration tests: the test CA and server certificate, made once
// per run; NODE_EXTRA_CA_CERTS is set here, in the parent, so every test worker started after
// this trusts the test CA from its first TLS connection on.
import { rmSync } from 'node:fs';
import { makeTestTls, TEST_TLS_DIR_ENV } from './test-tls';

export default function setup(): () => void {
  const tls = makeTestTls();
  process.env[TEST_TLS_DIR_ENV] = tls.dir;
  process.env.NODE_EXTRA_CA_CERTS = tls.caFile;
  return () => rmSync(tls.dir, { recursive: true, force: true });
}
