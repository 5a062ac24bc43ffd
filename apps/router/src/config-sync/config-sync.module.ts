import { Module } from '@nestjs/common';
import { AppliedConfig } from './applied-config';

@Module({ providers: [AppliedConfig], exports: [AppliedConfig] })
export class ConfigSyncModule {}
