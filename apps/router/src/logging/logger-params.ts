// pino settings for the router: JSON lines for log pipelines, pino-pretty only when a human
// asks for it with LOG_PRETTY=1.
import type { Params } from 'nestjs-pino';
import type { RouterEnv } from '../env/router-env';

/** Probes and scrapes arrive every few seconds; logging each would drown everything else. */
const QUIET_PATHS = ['/health/', '/metrics'];

export function loggerParams(env: RouterEnv): Params {
  return {
    pinoHttp: {
      level: env.logLevel,
      // Every line says which node wrote it, so logs of a whole installation can be merged.
      base: { pid: process.pid, localHost: env.localHost, node: env.node },
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      autoLogging: { ignore: (req) => QUIET_PATHS.some((path) => req.url?.startsWith(path)) },
      transport: env.logPretty
        ? { target: 'pino-pretty', options: { singleLine: true } }
        : undefined,
    },
  };
}
