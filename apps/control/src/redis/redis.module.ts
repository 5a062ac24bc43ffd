import { Global, Module } from '@nestjs/common';
import { RedisTargets } from './redis-targets';

@Global()
@Module({ providers: [RedisTargets], exports: [RedisTargets] })
export class RedisModule {}
