// Login attempts in progress, per IP address and per account. The failure delay alone slows
// one stream, not guesses made in parallel over many: 50 streams trying a token each would
// all be answered after one delay, and the absence of a quick <success/> tells the guesser
// even sooner. So only a few attempts per address and per account are checked and answered
// at a time; each holds its place from the check until its answer (a failure's delay
// included, even if the client leaves meanwhile), and the others wait in line.
//
// A waiting attempt that cannot get in gets `temporary-auth-failure` (RFC 6120 §6.5.11: try
// again later) with its token unchecked, so the answer tells nothing about it;
// `not-authorized` would tell a client that its token is wrong when nobody looked at it.
//
// A successful HS256 check ends within the turn of the event loop that started it, so it
// never finds its place taken by another success: parallel logins from one address (a NAT, a
// benchmark) wait only behind failures.

/** Attempts checked and answered at a time, per address and per account. */
export const MAX_ATTEMPTS_IN_PROGRESS = 2;
/** Attempts waiting in line per address and per account; one more is refused at once. */
export const MAX_ATTEMPTS_WAITING = 32;
/** How long an attempt waits in line before it is refused. */
export const MAX_ATTEMPT_WAIT_MS = 5_000;

interface Line {
  inProgress: number;
  readonly waiting: Waiter[];
}

interface Waiter {
  readonly admit: () => void;
  readonly timer: NodeJS.Timeout;
}

/** Places per key; a key is kept only while it has attempts in progress or waiting. */
export class AttemptGate {
  private readonly lines = new Map<string, Line>();

  /** Resolves true once the attempt has a place for `key`; false when it cannot get one. */
  enter(key: string): Promise<boolean> {
    let line = this.lines.get(key);
    if (!line) this.lines.set(key, (line = { inProgress: 0, waiting: [] }));
    if (line.inProgress < MAX_ATTEMPTS_IN_PROGRESS) {
      line.inProgress++;
      return Promise.resolve(true);
    }
    if (line.waiting.length >= MAX_ATTEMPTS_WAITING) return Promise.resolve(false);
    const waiting = line.waiting;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        // leave() hands its place over: inProgress stays as it is.
        admit: () => {
          clearTimeout(waiter.timer);
          resolve(true);
        },
        timer: setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1);
          resolve(false);
        }, MAX_ATTEMPT_WAIT_MS).unref(),
      };
      waiting.push(waiter);
    });
  }

  /** The attempt was answered: its place goes to the next in line. */
  leave(key: string): void {
    const line = this.lines.get(key);
    if (!line) return;
    const next = line.waiting.shift();
    if (next) next.admit();
    else if (--line.inProgress === 0) this.lines.delete(key);
  }

  /** Keys with attempts in progress or waiting (bounded by the streams open). */
  get size(): number {
    return this.lines.size;
  }
}

/** A place per address and, when it is known, per account, for each login attempt. */
export class LoginAttempts {
  private readonly byAddress = new AttemptGate();
  private readonly byAccount = new AttemptGate();

  /**
   * Waits for a place for `address` (as throttleKey gives it) and then for `account` (always
   * in this order, so two attempts never wait for each other's place). Returns the function
   * that gives them back, or null when either could not be had.
   */
  async enter(address: string, account: string | null): Promise<(() => void) | null> {
    if (!(await this.byAddress.enter(address))) return null;
    if (account !== null && !(await this.byAccount.enter(account))) {
      this.byAddress.leave(address);
      return null;
    }
    return () => {
      this.byAddress.leave(address);
      if (account !== null) this.byAccount.leave(account);
    };
  }

  /** Addresses and accounts with attempts in progress or waiting. */
  get size(): { readonly addresses: number; readonly accounts: number } {
    return { addresses: this.byAddress.size, accounts: this.byAccount.size };
  }
}
