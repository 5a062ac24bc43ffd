// How the session table says "Redis could not answer" as opposed to "no such session".

/**
 * Redis was needed and is down, slow or refused the command. `lookup` and `nodeOf` reject
 * with it (they never answer null for an outage, and never cache it), so routing can tell a
 * missing route (null) from an unknown one and bounce; registration rejects with it so the
 * edge refuses the login.
 */
export class SessionTableUnavailableError extends Error {
  constructor(operation: string, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`session table: Redis unavailable for ${operation}${reason}`, options);
    this.name = 'SessionTableUnavailableError';
  }
}

/** Thrown by SessionTable writes after stop(): a node on its way out takes no new sessions. */
export class SessionTableStoppedError extends Error {
  constructor() {
    super('session table: stopped (the node is shutting down)');
    this.name = 'SessionTableStoppedError';
  }
}
