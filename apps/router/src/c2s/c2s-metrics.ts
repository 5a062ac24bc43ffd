// The edge's metrics, next to meridian_gd_* on the router's Registry.
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type LoginFailureReason = string;

@Injectable()
export class C2sMetrics {
  /** Bound client sessions on this node, by transport. */
  readonly sessions: Gauge<'transport'>;
  /** Open client connections (negotiating or bound), by transport. */
  readonly connections: Gauge<'transport'>;
  /** SASL logins: result ok, or failed with a reason (never the token). */
  readonly logins: Counter<'result' | 'reason'>;
  /** Logins whose JWT only the previous key of a rotation verified. */
  readonly previousKeyLogins: Counter<string>;
  /** From the first byte of a connection to its bind result. */
  readonly loginSeconds: Histogram<string>;
  readonly stanzasIn: Counter<'kind'>;
  readonly stanzasOut: Counter<'kind'>;
  /** Stream errors sent to clients, by condition. */
  readonly streamErrors: Counter<'condition'>;
  /** Times a session ran out of shaper tokens and its socket stopped being read. */
  readonly shaped: Counter<string>;
  /** Connections refused because their IP address had too many. */
  readonly refusedConnections: Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.sessions = new Gauge({
      name: 'meridian_c2s_sessions',
      help: 'Client sessions bound on this node',
      labelNames: ['transport'],
      registers,
    });
    this.connections = new Gauge({
      name: 'meridian_c2s_connections',
      help: 'Client connections open on this node, bound or not',
      labelNames: ['transport'],
      registers,
    });
    this.logins = new Counter({
      name: 'meridian_c2s_logins_total',
      help: 'SASL logins by result (ok, failed) and failure reason',
      labelNames: ['result', 'reason'],
      registers,
    });
    this.previousKeyLogins = new Counter({
      name: 'meridian_c2s_previous_key_logins_total',
      help: 'Logins with a JWT verified by auth.jwt.previousSecret or previousPublicKey',
      registers,
    });
    this.loginSeconds = new Histogram({
      name: 'meridian_c2s_login_seconds',
      help: 'Time from connection to bound session',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.stanzasIn = new Counter({
      name: 'meridian_c2s_stanzas_in_total',
      help: 'Stanzas received from clients',
      labelNames: ['kind'],
      registers,
    });
    this.stanzasOut = new Counter({
      name: 'meridian_c2s_stanzas_out_total',
      help: 'Stanzas written to clients',
      labelNames: ['kind'],
      registers,
    });
    this.streamErrors = new Counter({
      name: 'meridian_c2s_stream_errors_total',
      help: 'Stream errors sent to clients',
      labelNames: ['condition'],
      registers,
    });
    this.shaped = new Counter({
      name: 'meridian_c2s_shaped_total',
      help: 'Times a client session was paused by its shaper',
      registers,
    });
    this.refusedConnections = new Counter({
      name: 'meridian_c2s_refused_connections_total',
      help: 'Client connections refused at accept',
      labelNames: ['reason'],
      registers,
    });
  }
}
