/** A failure to start that an operator can act on; main prints its message and exits 1. */
export class BootError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BootError';
  }
}

/** Turns a listen() failure into a sentence naming the setting to change. */
export function describeListenError(err: unknown, setting: string, port: number): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return `${setting}: port ${port} is already in use by another process`;
    case 'EACCES':
      return `${setting}: not allowed to listen on port ${port} (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `${setting}: the address to listen on is not one of this machine's`;
    default:
      return `${setting}: cannot listen on port ${port}: ${err instanceof Error ? err.message : String(err)}`;
  }
}
