import type { Log } from '../../core/log.ts';
import type { OutputObserver, OutputProblem } from '../../core/observer.ts';
import type { AdaptiveConcurrency } from './adaptive-concurrency.ts';
import type { Authorization } from './authorization.ts';
import { backoffDelay } from './backoff-delay.ts';
import type { Reply } from './bulk-transport.ts';
import { classifyBulkResponse, type DeadLetterReason, type ItemOutcome, type ServerError } from './classify-bulk-response.ts';
import type { DeadLetter, DeadLetterFile } from './dead-letter-file.ts';
import { retryAfterMs } from './retry-after.ts';
import type { SinkHealth } from './sink-health.ts';

/** What the retry stage needs of the others. */
export interface DeliveryContext {
  readonly bulk: (body: string) => Promise<Reply>;
  readonly limiter: AdaptiveConcurrency;
  readonly deadLetters: DeadLetterFile;
  readonly health: SinkHealth;
  readonly auth: Authorization;
  readonly observer: OutputObserver;
  readonly log: Log;
  /** Cap of the exponential backoff, and the wait of the slow retries (credentials, cluster block). */
  readonly retryMaxBackoffMs: number;
  /** Rejects with ShutdownError when the sink closes. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

/** First retry waits up to this; each next one up to twice as long, up to the cap. */
const BACKOFF_BASE_MS = 100;

/** `create` or `index`, from the item's action line (which the encoder wrote). */
function actionOf(item: string): string {
  return item.startsWith('{"create"') ? 'create' : 'index';
}

function sumBytes(items: readonly string[]): number {
  let n = 0;
  for (const i of items) n += Buffer.byteLength(i);
  return n;
}

/** A status class for the request metric: `2xx`, the exact 4xx/5xx code (a bounded set), `timeout`, `error`. */
function outcomeLabel(reply: Reply): string {
  if (reply.kind === 'failure') return reply.problem === 'timeout' ? 'timeout' : 'error';
  if (reply.status >= 200 && reply.status < 300) return '2xx';
  return String(reply.status);
}

/**
 * The retry stage: sends `items` (encoded `_bulk` items) until every one is stored or set
 * aside in the dead-letter file. Only the items that failed with 429/5xx are sent again;
 * failed requests are sent again whole (safe: `create` with deterministic ids); a 413 splits the
 * items in halves. Never gives up on a retryable failure: it waits, longer and longer, until the
 * sink is closed (then it rejects with ShutdownError and nothing is acknowledged).
 */
export async function deliverItems(ctx: DeliveryContext, items: readonly string[], knownBytes?: number): Promise<void> {
  let pending = items;
  let pendingBytes = knownBytes;
  let attempt = 0;
  const backoff = (minMs = 0) => backoffDelay(attempt++, BACKOFF_BASE_MS, ctx.retryMaxBackoffMs, ctx.random, minMs);
  while (pending.length > 0) {
    await ctx.limiter.acquire();
    let reply: Reply;
    try {
      reply = await ctx.bulk(pending.join(''));
    } finally {
      ctx.limiter.release();
    }
    ctx.observer.request(reply.seconds, outcomeLabel(reply));
    if (reply.kind === 'failure') {
      const wait = backoff();
      ctx.observer.outputProblem(reply.problem);
      ctx.observer.retried(reply.problem, pending.length);
      ctx.limiter.decrease();
      ctx.health.unreachable(reply.host, reply.message, wait);
      await ctx.sleep(wait);
      continue;
    }
    const outcome = classifyBulkResponse(reply.status, retryAfterMs(reply.headers['retry-after']), reply.body, pending.length, (i) => actionOf(pending[i] ?? ''));
    switch (outcome.kind) {
      case 'items': {
        ctx.health.answered(reply.host);
        if (outcome.allDelivered) {
          ctx.health.clusterUnblocked();
          ctx.observer.recordsDelivered(pending.length, pendingBytes ?? sumBytes(pending));
          ctx.limiter.succeeded();
          return;
        }
        const { again, againFor } = await settleItems(ctx, pending, outcome.items);
        if (!againFor.has('cluster_block')) ctx.health.clusterUnblocked();
        if (again.length === 0) {
          ctx.limiter.succeeded();
          return;
        }
        for (const [problem, n] of againFor) {
          ctx.observer.outputProblem(problem);
          ctx.observer.retried(problem, n);
        }
        let wait: number;
        if (againFor.has('cluster_block')) {
          wait = ctx.retryMaxBackoffMs;
          ctx.health.clusterBlock(reply.host, undefined, wait);
        } else {
          wait = backoff();
        }
        if (againFor.has('too_many_requests')) ctx.limiter.decrease();
        pending = again;
        pendingBytes = undefined;
        await ctx.sleep(wait);
        break;
      }
      case 'retry': {
        ctx.health.answered(reply.host);
        ctx.observer.outputProblem(outcome.problem);
        ctx.observer.retried(outcome.problem, pending.length);
        if (outcome.pushBack) ctx.limiter.decrease();
        let wait: number;
        if (outcome.problem === 'cluster_block') {
          wait = Math.max(ctx.retryMaxBackoffMs, outcome.retryAfterMs ?? 0);
          ctx.health.clusterBlock(reply.host, outcome.error, wait);
        } else {
          // The server's Retry-After is a floor: it knows better than our guess when it can take more.
          wait = backoff(outcome.retryAfterMs);
        }
        await ctx.sleep(wait);
        break;
      }
      case 'split': {
        ctx.health.answered(reply.host);
        ctx.observer.outputProblem(outcome.problem);
        if (pending.length === 1) {
          await setAside(ctx, outcome.problem, [deadLetter(pending[0] as string, outcome.status, outcome.error)]);
          return;
        }
        ctx.observer.retried(outcome.problem, pending.length);
        const half = Math.ceil(pending.length / 2);
        await Promise.all([deliverItems(ctx, pending.slice(0, half)), deliverItems(ctx, pending.slice(half))]);
        return;
      }
      case 'unauthorized': {
        ctx.observer.outputProblem('unauthorized');
        ctx.observer.retried('unauthorized', pending.length);
        ctx.auth.refused();
        ctx.health.unauthorized(reply.host, outcome.status, outcome.error, ctx.retryMaxBackoffMs);
        await ctx.sleep(ctx.retryMaxBackoffMs);
        break;
      }
      case 'stuck': {
        ctx.observer.outputProblem('bad_request');
        ctx.observer.retried('bad_request', pending.length);
        ctx.health.stuck(reply.host, outcome.status, outcome.error, ctx.retryMaxBackoffMs);
        await ctx.sleep(ctx.retryMaxBackoffMs);
        break;
      }
    }
  }
}

/**
 * One answer per item: counts what was delivered, sets aside what was rejected for good, and
 * returns what must be sent again, with why.
 */
async function settleItems(ctx: DeliveryContext, pending: readonly string[], outcomes: readonly ItemOutcome[]): Promise<{ again: string[]; againFor: Map<OutputProblem, number> }> {
  const again: string[] = [];
  const againFor = new Map<OutputProblem, number>();
  const dead = new Map<DeadLetterReason, DeadLetter[]>();
  let delivered = 0;
  let deliveredBytes = 0;
  outcomes.forEach((o, i) => {
    const item = pending[i] as string;
    if (o.kind === 'delivered') {
      delivered++;
      deliveredBytes += Buffer.byteLength(item);
    } else if (o.kind === 'retry') {
      again.push(item);
      againFor.set(o.problem, (againFor.get(o.problem) ?? 0) + 1);
    } else {
      const letter = deadLetter(item, o.status, o.error);
      if (o.reason === 'index_not_found') ctx.health.indexMissing(letter.index);
      const list = dead.get(o.reason);
      if (list === undefined) dead.set(o.reason, [letter]);
      else list.push(letter);
    }
  });
  if (delivered > 0) ctx.observer.recordsDelivered(delivered, deliveredBytes);
  for (const [reason, letters] of dead) await setAside(ctx, reason, letters);
  return { again, againFor };
}

/** The index and document of an encoded item, for its dead letter. */
function deadLetter(item: string, status: number, error: ServerError): DeadLetter {
  const nl = item.indexOf('\n');
  let index = '';
  try {
    const action = JSON.parse(item.slice(0, nl)) as Record<string, { _index?: unknown }>;
    const meta = Object.values(action)[0];
    if (typeof meta?._index === 'string') index = meta._index;
  } catch {
    // The action line is ours; should it ever not parse, the letter still carries the document.
  }
  return { status, error, index, document: item.slice(nl + 1, item.endsWith('\n') ? -1 : undefined) };
}

/** Dead letters are done: written (as far as the file's bound allows), counted, never retried. */
async function setAside(ctx: DeliveryContext, reason: DeadLetterReason, letters: DeadLetter[]): Promise<void> {
  let written: number;
  try {
    written = await ctx.deadLetters.write(letters);
  } catch (err) {
    if ((err as { code?: string }).code === 'NODETAIL_SHUTDOWN') throw err;
    written = 0;
    ctx.log.error({ path: ctx.deadLetters.path, error: (err as Error).message }, 'Elasticsearch output: cannot write the dead-letter file; the rejected records are only counted');
  }
  ctx.observer.deadLettered(reason, letters.length);
  const first = letters[0] as DeadLetter;
  ctx.log.warn(
    { reason, records: letters.length, written, status: first.status, type: first.error.type, index: first.index, path: ctx.deadLetters.path },
    written < letters.length
      ? 'Elasticsearch output: records rejected; the dead-letter file is full, so some are only counted'
      : 'Elasticsearch output: records rejected; they are in the dead-letter file with the reason',
  );
}
