// Control listens on PORT (and CONTROL_HOST) and says at boot whether bearer tokens and the
// secrets in request bodies reach it encrypted: HTTPS with CONTROL_TLS_CERT/KEY, else plain
// HTTP, which is a warning unless only this machine can connect.
import { Logger, type INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import type { ControlEnv } from '../env/control-env';

export async function listenControl(app: INestApplication, env: ControlEnv): Promise<void> {
  await (env.host === undefined ? app.listen(env.port) : app.listen(env.port, env.host));
  const { address, port } = app.getHttpServer().address() as AddressInfo;
  const where = `${address.includes(':') ? `[${address}]` : address}:${port}`;
  const logger = new Logger('listen');
  if (env.tls) {
    logger.log(
      `HTTPS on ${where} (TLS 1.2 or newer; certificate ${env.tls.certFile}, valid until ${env.tls.validTo}; read at start only)`,
    );
  } else if (isLoopbackAddress(address)) {
    logger.log(`plain HTTP on ${where} (loopback only)`);
  } else {
    logger.warn(
      `plain HTTP on ${where}: bearer tokens and secrets travel in clear; set CONTROL_TLS_CERT and CONTROL_TLS_KEY, or keep this port on a private network or behind a TLS-terminating proxy`,
    );
  }
}

/** 127.0.0.0/8 and ::1, IPv4-mapped included; `::` and `0.0.0.0` (every interface) are not. */
export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./i.test(address);
}
