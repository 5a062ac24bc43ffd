// Why a send failed. The router turns every rejection into a bounce (ARCHITECTURE §6.5), so
// each reason says what happened rather than what to do.

export type InterlinkSendFailure =
  /** No endpoint of the destination became known within the send timeout. */
  | 'no-endpoint'
  /** The connection's queue stayed full for the whole send timeout (the peer is slow). */
  | 'timeout'
  /** The connection was retired (config change, endpoint gone) before room appeared. */
  | 'retired'
  /** The service is closing. */
  | 'closed'
  /** The envelope cannot be framed (a field out of range, or the stanza over the limit). */
  | 'invalid'
  /** TLS is on but this node has no certificate, key or CA. */
  | 'not-configured'
  /** Every link to the destination has been down for unreachableAfterMs (its node died). */
  | 'unreachable';

export class InterlinkSendError extends Error {
  constructor(
    readonly reason: InterlinkSendFailure,
    message: string,
  ) {
    super(message);
    this.name = 'InterlinkSendError';
  }
}

/** A configuration this node cannot apply to its links (say, TLS on without certificates). */
export class InterlinkConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterlinkConfigError';
  }
}
