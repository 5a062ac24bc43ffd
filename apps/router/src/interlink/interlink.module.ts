// Links between nodes and datacenters. Needs RedisConnection (global RedisModule), ROUTER_ENV
// (global RouterEnvModule) and GdMetrics (MetricsModule). Endpoints come from Redis unless
// ENDPOINT_SOURCE is provided otherwise; INTERLINK_OPTIONS may tune timeouts and bounds.
import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { ENDPOINT_SOURCE } from './endpoint-source';
import { InterlinkService } from './interlink.service';
import { RedisEndpointSource } from './redis-endpoint-source';

@Module({
  imports: [MetricsModule],
  providers: [InterlinkService, { provide: ENDPOINT_SOURCE, useClass: RedisEndpointSource }],
  exports: [InterlinkService],
})
export class InterlinkModule {}
