import { ShutdownError } from '../../core/errors.ts';

/**
 * Bounds the bulk requests in flight. The limit starts at the configured maximum, is halved
 * when the server pushes back (429, 503, timeouts) and grows back by one after a run of clean
 * answers: additive increase, multiplicative decrease, as TCP and Vector's adaptive request
 * concurrency do, so a struggling cluster gets fewer concurrent bulks from every node.
 */
export class AdaptiveConcurrency {
  readonly #max: number;
  #limit: number;
  #inFlight = 0;
  #cleanRun = 0;
  readonly #waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  #closed = false;

  constructor(max: number) {
    this.#max = Math.max(1, max);
    this.#limit = this.#max;
  }

  limit(): number {
    return this.#limit;
  }

  inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves when a request may start; rejects with ShutdownError after `close`. */
  acquire(): Promise<void> {
    if (this.#closed) return Promise.reject(new ShutdownError());
    if (this.#inFlight < this.#limit) {
      this.#inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  release(): void {
    this.#inFlight--;
    this.#wake();
  }

  /** The server pushed back. */
  decrease(): void {
    this.#cleanRun = 0;
    this.#limit = Math.max(1, Math.floor(this.#limit / 2));
  }

  /** A clean answer: after as many in a row as the current limit, allow one more request. */
  succeeded(): void {
    if (this.#limit >= this.#max) return;
    if (++this.#cleanRun >= this.#limit * 4) {
      this.#cleanRun = 0;
      this.#limit++;
      this.#wake();
    }
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.reject(new ShutdownError());
  }

  #wake(): void {
    while (this.#inFlight < this.#limit && this.#waiters.length > 0) {
      this.#inFlight++;
      this.#waiters.shift()?.resolve();
    }
  }
}
