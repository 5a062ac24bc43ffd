import { INestApplication, ValidationPipe, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { flattenValidationErrors } from '#config';
import { Logger } from 'nestjs-pino';
import type { ServerOptions } from 'node:https';
import type { DestinationStream } from 'pino';
import { ControlModule } from './app.module';
import type { ControlEnv, ControlTls } from './env/control-env';
import { InvalidInputException } from './http/api-errors';
import { jsonBodiesOnly } from './http/json-bodies-only';

/** Builds the control application (used by main.ts and by the end-to-end tests). */
export async function createControlApp(
  env: ControlEnv,
  options: { quiet?: boolean; logStream?: DestinationStream } = {},
): Promise<INestApplication> {
  const module = ControlModule.register(env, options.logStream);
  const app = await NestFactory.create<NestExpressApplication>(module, {
    bodyParser: false,
    bufferLogs: true,
    logger: options.quiet ? false : undefined,
    httpsOptions: env.tls ? httpsOptions(env.tls) : undefined,
  });
  if (!options.quiet) app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: env.maxBodyBytes, strict: false });
  app.use(jsonBodiesOnly);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => new InvalidInputException(flattenValidationErrors(errors)),
    }),
  );
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Meridian control API')
      .setDescription(
        'Configuration revisions, dynamic domains and rollout status for Meridian routers. ' +
          'Every /v1 route needs a bearer token; writes need a read-write token.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  return app;
}

/**
 * TLS 1.2 at least, as on c2s and the links, whatever Node's defaults or flags say (Nest's
 * type lacks `minVersion`; the options go to https.createServer as they are).
 */
function httpsOptions(
  tls: ControlTls,
): NestApplicationOptions['httpsOptions'] & Pick<ServerOptions, 'minVersion'> {
  return { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' };
}
