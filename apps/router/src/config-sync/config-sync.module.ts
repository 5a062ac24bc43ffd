// Configuration sync: the revision and dynamic-domain set in force (RouterConfig), kept in
// step with what control pushes to Redis, and this router's status record (RouterStatus).
import { Module } from '@nestjs/common';
import { ConfigSubscriber } from './config-subscriber';
import { ConfigSyncService } from './config-sync.service';
import { DomainSync } from './domain-sync';
import { RevisionSync } from './revision-sync';
import { RouterConfig } from './router-config';
import { RouterStatus } from './router-status';

@Module({
  providers: [
    RouterConfig,
    RouterStatus,
    ConfigSubscriber,
    DomainSync,
    RevisionSync,
    ConfigSyncService,
  ],
  exports: [RouterConfig, RouterStatus],
})
export class ConfigSyncModule {}
