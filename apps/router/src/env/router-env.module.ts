import { DynamicModule, Global, Module } from '@nestjs/common';
import { ROUTER_ENV, RouterEnv } from './router-env';

/** Makes the validated environment injectable everywhere as `@Inject(ROUTER_ENV)`. */
@Global()
@Module({})
export class RouterEnvModule {
  static forRoot(env: RouterEnv): DynamicModule {
    return {
      module: RouterEnvModule,
      providers: [{ provide: ROUTER_ENV, useValue: env }],
      exports: [ROUTER_ENV],
    };
  }
}
