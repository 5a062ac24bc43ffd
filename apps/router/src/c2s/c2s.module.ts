// Clients over TCP (RFC 6120 with STARTTLS, SASL PLAIN with a JWT, resource binding), plugged
// into the router core through LocalSessions, Router and LocalServer. Imported by the app
// module; it imports RoutingModule so it stops (closing every stream) before the router drains.
import { Module } from '@nestjs/common';
import { ConfigSyncModule } from '../config-sync';
import { MetricsModule } from '../metrics/metrics.module';
import { RoutingModule } from '../routing/routing.module';
import { SessionTableModule } from '../session-table';
import { C2sMetrics } from './c2s-metrics';
import { C2sServer } from './c2s-server';
import { C2sTls } from './c2s-tls';
import { ServerStanzaHandler } from './server-stanza-handler';

@Module({
  imports: [ConfigSyncModule, MetricsModule, RoutingModule, SessionTableModule],
  providers: [C2sMetrics, C2sTls, C2sServer, ServerStanzaHandler],
  exports: [C2sServer],
})
export class C2sModule {}
