import { Module } from '@nestjs/common';
import { ConfigSyncModule } from '../config-sync';
import { MetricsModule } from '../metrics/metrics.module';
import { RoutingModule } from '../routing/routing.module';
import { SessionTableModule } from '../session-table';
import { ComponentMetrics } from './component-metrics';
import { ComponentsService } from './components.service';

/** External components (XEP-0114) on COMPONENT_PORT; docs/components.md. */
@Module({
  imports: [ConfigSyncModule, MetricsModule, RoutingModule, SessionTableModule],
  providers: [ComponentsService, ComponentMetrics],
  exports: [ComponentsService],
})
export class ComponentsModule {}
