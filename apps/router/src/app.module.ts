// The router's root module. Built from an already validated environment, so tests can boot
// the same wiring as production with their own settings.
import { BeforeApplicationShutdown, DynamicModule, Logger, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ComponentsModule } from './components/components.module';
import { C2sModule } from './c2s';
import { ConfigSyncModule } from './config-sync/config-sync.module';
import { RouterEnv } from './env/router-env';
import { RouterEnvModule } from './env/router-env.module';
import { HealthModule } from './health/health.module';
import { loggerParams } from './logging/logger-params';
import { MetricsModule } from './metrics/metrics.module';
import { RedisModule } from './redis/redis.module';
import { RoutingModule } from './routing/routing.module';
import { WebSocketModule } from './websocket';

@Module({})
export class AppModule implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');

  static forRoot(env: RouterEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        RouterEnvModule.forRoot(env),
        LoggerModule.forRoot(loggerParams(env)),
        RedisModule,
        ConfigSyncModule,
        MetricsModule,
        RoutingModule,
        C2sModule,
        WebSocketModule,
        ComponentsModule,
        HealthModule,
      ],
    };
  }

  beforeApplicationShutdown(signal?: string): void {
    this.logger.log(`Stopping${signal ? ` on ${signal}` : ''}`);
  }
}
