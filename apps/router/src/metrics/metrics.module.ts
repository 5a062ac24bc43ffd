// One prom-client Registry per application (not the global one), so every metric the router
// exports is registered here explicitly and test apps do not share counters.
import { Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { GdMetrics } from './gd-metrics';
import { MetricsController } from './metrics.controller';

@Module({
  controllers: [MetricsController],
  providers: [
    {
      provide: Registry,
      useFactory: () => {
        const registry = new Registry();
        collectDefaultMetrics({ register: registry });
        return registry;
      },
    },
    GdMetrics,
  ],
  exports: [Registry, GdMetrics],
})
export class MetricsModule {}
