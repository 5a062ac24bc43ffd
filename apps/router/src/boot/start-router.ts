// Creating and starting the router application; shared by main.ts and the integration tests
// so both exercise the same wiring.
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AddressInfo } from 'node:net';
import { Logger } from 'nestjs-pino';
import { AppModule } from '../app.module';
import { RouterEnv, routerEnvWarnings } from '../env/router-env';
import { BootError, describeListenError } from './boot-error';

export async function createRouterApp(env: RouterEnv): Promise<INestApplication> {
  // abortOnError: false makes a wiring failure reject here instead of aborting the process.
  const app = await NestFactory.create(AppModule.forRoot(env), {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  return app;
}

/**
 * Creates the application, waits for Redis and opens the listeners. Throws BootError when Redis
 * does not answer in time or a port is unusable.
 */
export async function startRouter(env: RouterEnv): Promise<INestApplication> {
  const app = await createRouterApp(env);
  const logger = app.get(Logger);
  for (const warning of routerEnvWarnings(env)) logger.warn(warning, 'RouterEnv');
  try {
    // Runs the modules' init hooks, which wait (bounded) for Redis.
    await app.init();
  } catch (err) {
    app.flushLogs();
    await app.close();
    throw err;
  }
  try {
    await app.listen(env.httpPort);
  } catch (err) {
    await app.close();
    throw new BootError(describeListenError(err, 'HTTP_PORT', env.httpPort), { cause: err });
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  logger.log(
    `Router ${env.node} of ${env.localHost} serving health and metrics on HTTP port ${port}`,
    'Bootstrap',
  );
  return app;
}
