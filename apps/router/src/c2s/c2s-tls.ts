// The c2s certificate (TLS_CERT/TLS_KEY). Without one, STARTTLS is not offered; since PLAIN
// is offered only over TLS (or, with auth.allowPlaintext, to loopback clients), clients on
// other hosts then cannot log in: said once, loudly, at boot. The files are read again on each new revision, so a rotated certificate
// applies to the next STARTTLS without a restart.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ROUTER_ENV, type RouterEnv } from '../env/router-env';

@Injectable()
export class C2sTls {
  private readonly logger = new Logger('C2sTls');
  private context: SecureContext | null = null;
  private digest: string | null = null;

  constructor(@Inject(ROUTER_ENV) private readonly env: RouterEnv) {}

  /** The context in force, or null when no certificate is configured or readable. */
  get secureContext(): SecureContext | null {
    return this.context;
  }

  /** Reads the files (at boot and on each revision); keeps the previous context on failure. */
  load(allowPlaintext: boolean, atBoot = false): void {
    const { certFile, keyFile } = this.env.tls;
    if (!certFile || !keyFile) {
      if (atBoot) {
        this.logger.warn(
          allowPlaintext
            ? 'TLS_CERT/TLS_KEY are not set: c2s STARTTLS is off; SASL PLAIN is offered in clear text to loopback clients only (auth.allowPlaintext), so no client on another host can log in'
            : 'TLS_CERT/TLS_KEY are not set: c2s STARTTLS is off, and SASL PLAIN is offered only over TLS, so no client can log in (set the certificate, or auth.allowPlaintext for loopback benchmarks)',
        );
      }
      return;
    }
    try {
      const cert = readFileSync(certFile);
      const key = readFileSync(keyFile);
      const digest = createHash('sha256').update(cert).update(key).digest('hex');
      if (digest === this.digest) return;
      this.context = createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
      if (this.digest !== null) this.logger.log('c2s certificate reloaded');
      this.digest = digest;
    } catch (err) {
      this.logger.error(
        `c2s certificate (${certFile}, ${keyFile}) cannot be used: ${(err as Error).message}` +
          (this.context ? '; keeping the previous one' : '; STARTTLS is off'),
      );
    }
  }
}
