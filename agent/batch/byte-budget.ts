/**
 * Bytes read but not yet acknowledged, against a limit (DESIGN.md invariant 3). Readers wait
 * for room before each read; acknowledgements give room back. While the output is slow or
 * down, reading stops and the log files on disk are the buffer.
 */
export class ByteBudget {
  readonly limit: number;
  #held = 0;
  #waiters: Array<() => void> = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  held(): number {
    return this.#held;
  }

  /** True while a reader would have to wait. */
  full(): boolean {
    return this.#held >= this.limit;
  }

  take(bytes: number): void {
    this.#held += bytes;
  }

  release(bytes: number): void {
    this.#held -= bytes;
    if (this.#held < this.limit && this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves once there is room (at once when there is). */
  room(): Promise<void> {
    if (!this.full()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Wakes every waiter (shutdown). */
  wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
