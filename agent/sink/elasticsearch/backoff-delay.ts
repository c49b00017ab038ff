/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
 * Jitter"; Vector's `ExponentialBackoff` + jitter): wait a uniformly random time between 0 and
 * `min(maxMs, baseMs * 2^attempt)`. Full jitter spreads the retries of many agents that were
 * refused at the same instant, so a recovering cluster is not hit by a synchronised wave.
 * `attempt` counts from 0. `minMs` puts a floor under it (a server's Retry-After).
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random, minMs = 0): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(minMs, Math.floor(random() * ceiling));
}
