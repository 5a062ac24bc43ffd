import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { ControlEnv } from '../env/control-env';
import { CONTROL_ENV } from '../env/env.module';
import { dataSourceOptions } from './data-source-options';
import { ENTITIES } from './entities';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [CONTROL_ENV],
      useFactory: (env: ControlEnv) => ({
        ...dataSourceOptions(env),
        migrationsRun: env.migrateOnStart,
        // Keep trying at boot for a while: control may start before PostgreSQL is up.
        retryAttempts: 10,
        retryDelay: 1000,
      }),
    }),
    TypeOrmModule.forFeature(ENTITIES),
  ],
  exports: [TypeOrmModule],
})
export class PersistenceModule {}
