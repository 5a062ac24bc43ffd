/**
 * Runs `task` one at a time; a kick while it runs schedules exactly one more run, so every
 * kick is followed by a complete run that started after it (notices that arrive during a
 * Redis read are never lost, and a burst of them costs one extra run, not one each).
 */
export class SingleFlight {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly task: () => Promise<void>) {}

  get busy(): boolean {
    return this.running !== null;
  }

  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.task();
        } while (this.again);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Resolves once no run is in progress. */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }
}
