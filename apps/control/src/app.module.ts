import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AdminTokenGuard } from './auth/admin-token.guard';
import { DomainsController } from './domains/domains.controller';
import { DomainsService } from './domains/domains.service';
import type { ControlEnv } from './env/control-env';
import { EnvModule } from './env/env.module';
import { HealthController } from './health/health.controller';
import { HttpErrorFilter } from './http/http-error.filter';
import { loggedUrl } from './http/logged-url';
import { PersistenceModule } from './persistence/persistence.module';
import { ConfigPublisher } from './publishing/config-publisher';
import { RedisModule } from './redis/redis.module';
import { BounceController } from './resources/bounce.controller';
import { ComponentsController } from './resources/components.controller';
import { ConfigController } from './resources/config.controller';
import { DatacentersController } from './resources/datacenters.controller';
import { EndpointOverridesController } from './resources/endpoint-overrides.controller';
import { HostTypesController } from './resources/host-types.controller';
import { SettingsController } from './resources/settings.controller';
import { RevisionService } from './revisions/revision.service';
import { RevisionsController } from './revisions/revisions.controller';
import { StatusController } from './status/status.controller';
import { StatusService } from './status/status.service';

@Module({})
export class ControlModule {
  /** `logStream` replaces stdout as the log destination (tests read what would be logged). */
  static register(env: ControlEnv, logStream?: DestinationStream): DynamicModule {
    const tokens = env.adminTokens.map((t) => t.token);
    const pinoHttp = {
      level: env.logLevel,
      // Only method, URL and status: headers carry tokens and bodies carry secrets; a token
      // a client put in the URL is cut out.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: loggedUrl(req.url, tokens),
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req: { url?: string }) => req.url === '/health' },
      transport: env.logPretty && !logStream ? { target: 'pino-pretty' } : undefined,
    };
    return {
      module: ControlModule,
      imports: [
        EnvModule.register(env),
        LoggerModule.forRoot({ pinoHttp: logStream ? [pinoHttp, logStream] : pinoHttp }),
        PersistenceModule,
        RedisModule,
        TerminusModule,
      ],
      controllers: [
        ConfigController,
        SettingsController,
        DatacentersController,
        EndpointOverridesController,
        BounceController,
        HostTypesController,
        ComponentsController,
        RevisionsController,
        DomainsController,
        StatusController,
        HealthController,
      ],
      providers: [
        RevisionService,
        DomainsService,
        ConfigPublisher,
        StatusService,
        { provide: APP_GUARD, useClass: AdminTokenGuard },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
    };
  }
}
