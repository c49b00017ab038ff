/**
 * Whether the agent itself is wedged, for /healthz (the liveness probe: a failure restarts the
 * pod). An output that answers but refuses (a cluster block, sustained 429s, a proxy's 502) is not
 * the agent's fault, and restarting every agent of a cluster in the middle of an Elasticsearch
 * incident helps nobody: that is /readyz's to report. Wedged means records wait to be delivered and
 * nothing moves at all: no batch acknowledged and no output request finished, whatever its answer,
 * for `wedgedAfterMs`. Requests time out (request_timeout_ms) and retries wait at most
 * retry_max_backoff_ms, so a working output finishes one far more often than that.
 */
export class Liveness {
  readonly #wedgedAfterMs: number;
  readonly #now: () => number;
  #lastMove: number;

  constructor(wedgedAfterMs: number, now: () => number = Date.now) {
    this.#wedgedAfterMs = wedgedAfterMs;
    this.#now = now;
    this.#lastMove = now();
  }

  /** A batch was acknowledged, or the output finished a request (any answer, or none). */
  moved(): void {
    this.#lastMove = this.#now();
  }

  /** `waiting`: batches are in flight. */
  check(waiting: boolean): { ok: boolean; reason?: string } {
    const still = this.#now() - this.#lastMove;
    if (!waiting || still <= this.#wedgedAfterMs) return { ok: true };
    return { ok: false, reason: `records wait, yet no batch was acknowledged and no output request finished for ${Math.round(still / 1000)} s: the agent is wedged` };
  }
}
