import { Module } from '@nestjs/common';
import { ConfigSyncModule } from '../config-sync/config-sync.module';
import { InterlinkModule } from '../interlink/interlink.module';
import { LocalDeliveryModule } from '../local-delivery/local-delivery.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SessionTableModule } from '../session-table/session-table.module';
import { LocalServer } from './local-server';
import { PolicyFanout } from './policy-fanout';
import { Router } from './router.service';

@Module({
  imports: [
    ConfigSyncModule,
    SessionTableModule,
    InterlinkModule,
    LocalDeliveryModule,
    MetricsModule,
  ],
  providers: [Router, LocalServer, PolicyFanout],
  exports: [Router, LocalServer, LocalDeliveryModule],
})
export class RoutingModule {}
