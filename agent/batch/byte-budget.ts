/**
 * Bytes read but not yet acknowledged, against a limit (`buffer_max_bytes`: memory stays bounded). Readers wait
 * for room before each read; acknowledgements give room back. While the output is slow or
 * down, reading stops and the log files on disk are the buffer.
 */
export class ByteBudget {
  readonly limit: number;
  #held = 0;
  #waiters: Array<{ bytes: number; wake: () => void }> = [];

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
    if (this.#waiters.length === 0) return;
    const free = this.limit - this.#held;
    const ready = this.#waiters.filter((w) => w.bytes <= free);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.bytes > free);
    for (const w of ready) w.wake();
  }

  /** Resolves once `bytes` (default 1) fit under the limit: at once when they do. */
  room(bytes = 1): Promise<void> {
    if (this.limit - this.#held >= bytes) return Promise.resolve();
    return new Promise((wake) => this.#waiters.push({ bytes, wake }));
  }

  /** Wakes every waiter (shutdown). */
  wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.wake();
  }
}
