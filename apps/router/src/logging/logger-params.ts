// pino settings for the router: JSON lines for log pipelines, pino-pretty only when a human
// asks for it with LOG_PRETTY=1.
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { RouterEnv } from '../env/router-env';

/**
 * The router's HTTP routes are only probes and scrapes, which arrive every few seconds and
 * would drown the log. They are kept out of the request-logging middleware altogether: on
 * Node 20 the middleware's AsyncLocalStorage.run switches promise hooks on for the whole
 * process at the first request, which costs the stanza path about a quarter of its CPU.
 */
const UNLOGGED_ROUTES = ['health/live', 'health/ready', 'metrics'].map((path) => ({
  path,
  method: RequestMethod.ALL,
}));

export function loggerParams(env: RouterEnv): Params {
  return {
    exclude: UNLOGGED_ROUTES,
    pinoHttp: {
      level: env.logLevel,
      // Every line says which node wrote it, so logs of a whole installation can be merged.
      base: { pid: process.pid, localHost: env.localHost, node: env.node },
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      transport: env.logPretty
        ? { target: 'pino-pretty', options: { singleLine: true } }
        : undefined,
    },
  };
}
