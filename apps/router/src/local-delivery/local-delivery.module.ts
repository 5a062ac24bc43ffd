import { Module } from '@nestjs/common';
import { ConfigSyncModule } from '../config-sync/config-sync.module';
import { SessionTableModule } from '../session-table/session-table.module';
import { LocalSessions } from './local-sessions';

/** The port the XMPP edge plugs into: register a session, unregister it, deliver to it. */
@Module({
  imports: [SessionTableModule, ConfigSyncModule],
  providers: [LocalSessions],
  exports: [LocalSessions],
})
export class LocalDeliveryModule {}
