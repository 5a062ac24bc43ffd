// Hands each new revision to the modules whose policy it sets (session table: cache and
// redis; interlink: pools, TLS, intervals, overrides), so changes apply without a restart.
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { RouterConfig, type RouterSnapshot } from '../config-sync/router-config';
import { InterlinkService } from '../interlink/interlink.service';
import { SessionTable } from '../session-table/session-table';

@Injectable()
export class PolicyFanout implements OnModuleInit {
  private readonly logger = new Logger(PolicyFanout.name);

  constructor(
    private readonly config: RouterConfig,
    private readonly table: SessionTable,
    private readonly interlink: InterlinkService,
  ) {}

  onModuleInit(): void {
    if (this.config.applied) this.apply(this.config.snapshot);
    this.config.onChange((next, previous) => {
      if (previous === null || next.config !== previous.config) this.apply(next);
    });
  }

  private apply(snapshot: RouterSnapshot): void {
    this.table.applyConfig(snapshot.config);
    try {
      this.interlink.applyConfig(snapshot.config);
    } catch (error) {
      // The revision is in force everywhere else; the links keep their previous settings.
      this.logger.error(
        { revision: snapshot.revision, err: error },
        'interlink could not take the revision (links keep their settings)',
      );
    }
  }
}
