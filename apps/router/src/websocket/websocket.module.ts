// XMPP clients over WebSocket (RFC 7395) on HTTP_PORT; docs/xmpp-edge.md. It imports the c2s
// module, so it shuts down first: upgrades stop before the c2s server ends the streams.
import { Module } from '@nestjs/common';
import { C2sModule } from '../c2s';
import { ConfigSyncModule } from '../config-sync';
import { MetricsModule } from '../metrics/metrics.module';
import { WebSocketEndpoint } from './websocket-endpoint';
import { WebSocketMetrics } from './websocket-metrics';

@Module({
  imports: [C2sModule, ConfigSyncModule, MetricsModule],
  providers: [WebSocketEndpoint, WebSocketMetrics],
})
export class WebSocketModule {}
