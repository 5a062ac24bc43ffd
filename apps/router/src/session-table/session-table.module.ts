// The session table (ARCHITECTURE §5): SessionTable for routing and the edge, NodeRegistry
// for the interlink. Everything else here is internal.
import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { InvalidationChannel } from './invalidation-channel';
import { NodeRegistry } from './node-registry';
import { SessionRefresher } from './session-refresher';
import { SessionStore } from './session-store';
import { SessionTable } from './session-table';
import { SessionTablePolicy } from './session-table-policy';
import { SessionTableRedis } from './session-table-redis';

@Module({
  imports: [MetricsModule],
  providers: [
    SessionTablePolicy,
    SessionTableRedis,
    InvalidationChannel,
    NodeRegistry,
    SessionStore,
    SessionRefresher,
    SessionTable,
  ],
  exports: [SessionTable, NodeRegistry],
})
export class SessionTableModule {}
