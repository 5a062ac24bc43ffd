// What the WebSocket endpoint refuses before or beside the c2s session; sessions, logins and
// stanzas over WebSocket are counted by the c2s metrics with transport="websocket".
import { Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import type { UpgradeRefusalReason } from './upgrade-request';
import type { FrameRefusal } from './websocket-transport';

@Injectable()
export class WebSocketMetrics {
  /** Upgrade requests answered with an HTTP error instead of 101. */
  readonly refusedUpgrades: Counter<'reason'>;
  /** Connections closed for a frame the endpoint does not take. */
  readonly refusedFrames: Counter<'reason'>;

  constructor(registry: Registry) {
    this.refusedUpgrades = new Counter({
      name: 'meridian_websocket_refused_upgrades_total',
      help: 'WebSocket upgrade requests refused, by reason (path, subprotocol, shutdown)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.refusedFrames = new Counter({
      name: 'meridian_websocket_refused_frames_total',
      help: 'WebSocket connections closed for a frame, by reason (binary, too-large, invalid-utf8, protocol)',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  upgradeRefused(reason: UpgradeRefusalReason): void {
    this.refusedUpgrades.inc({ reason });
  }

  frameRefused(reason: FrameRefusal): void {
    this.refusedFrames.inc({ reason });
  }
}
