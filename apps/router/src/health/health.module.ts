import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConfigSyncModule } from '../config-sync';
import { HealthController } from './health.controller';
import { ReadinessIndicators } from './readiness.indicators';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), ConfigSyncModule],
  controllers: [HealthController],
  providers: [ReadinessIndicators],
})
export class HealthModule {}
