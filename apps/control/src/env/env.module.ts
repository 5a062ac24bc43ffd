import { Global, Module } from '@nestjs/common';
import type { ControlEnv } from './control-env';

export const CONTROL_ENV = Symbol('CONTROL_ENV');

/** Makes the parsed environment injectable as `@Inject(CONTROL_ENV) env: ControlEnv`. */
@Global()
@Module({})
export class EnvModule {
  static register(env: ControlEnv) {
    return {
      module: EnvModule,
      providers: [{ provide: CONTROL_ENV, useValue: env }],
      exports: [CONTROL_ENV],
    };
  }
}
