import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ReadinessIndicators } from './readiness.indicators';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessIndicators,
  ) {}

  /** Up while the process can answer HTTP at all; a failing liveness probe means restart. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Whether this node should receive traffic: 503 with the failing checks otherwise. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.readiness.redisReachable(),
      () => this.readiness.configApplied(),
    ]);
  }
}
