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
  readonly bulk: (body: Buffer, failureStore: boolean) => Promise<Reply>;
  /** True when the server may answer items with a data stream failure store (Elasticsearch 9). */
  readonly failureStore: () => boolean;
  /** True when some host answers a plain request (`GET /`): the server is up, whatever one body does. */
  readonly serverAnswers: () => Promise<boolean>;
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

/**
 * Connection failures in a row of one body before the server is asked whether it answers at all
 * (`GET /`): Elasticsearch 8/9 answer a body above `http.max_content_length` from its
 * Content-Length and close the socket unread, and a client still writing often sees only the
 * reset. When the server answers and the body's next attempt fails again, the body is split, as a
 * 413 would have it; a server that is down (or was, and is back) is not split for.
 */
const RESETS_BEFORE_PROBE = 3;

/** Items of a request: their bytes one after another, and where each ends (the `Batch` layout). */
interface Items {
  readonly body: Buffer;
  readonly ends: Uint32Array;
}

function startOf(items: Items, i: number): number {
  return i === 0 ? 0 : (items.ends[i - 1] as number);
}

/** `create` or `index`, from the item's action line (which the encoder wrote). */
function actionOf(items: Items, i: number): string {
  const start = startOf(items, i);
  return items.body.toString('latin1', start, start + 9) === '{"create"' ? 'create' : 'index';
}

/** Items `[from, to)`: a view of the same bytes, no copy. */
function range(items: Items, from: number, to: number): Items {
  const base = startOf(items, from);
  const end = startOf(items, to);
  const ends = items.ends.slice(from, to);
  if (base > 0) for (let i = 0; i < ends.length; i++) ends[i] = (ends[i] as number) - base;
  return { body: items.body.subarray(base, end), ends };
}

/** The items at `indexes` (ascending), copied into one body: what is sent again. */
function pick(items: Items, indexes: readonly number[]): Items {
  const parts: Buffer[] = [];
  const ends = new Uint32Array(indexes.length);
  let length = 0;
  for (const [n, i] of indexes.entries()) {
    const part = items.body.subarray(startOf(items, i), items.ends[i] as number);
    parts.push(part);
    length += part.length;
    ends[n] = length;
  }
  return { body: Buffer.concat(parts, length), ends };
}

/** A status class for the request metric: `2xx`, the exact 4xx/5xx code (a bounded set), `timeout`, `error`. */
function outcomeLabel(reply: Reply): string {
  if (reply.kind === 'failure') return reply.problem === 'timeout' ? 'timeout' : 'error';
  if (reply.status >= 200 && reply.status < 300) return '2xx';
  return String(reply.status);
}

/**
 * The retry stage: sends `items` (encoded `_bulk` items, one body) until every one is stored or set
 * aside in the dead-letter file. Only the items that failed with 429/5xx are sent again;
 * failed requests are sent again whole (safe: `create` with deterministic ids); a 413 splits the
 * items in halves. Never gives up on a retryable failure: it waits, longer and longer, until the
 * sink is closed (then it rejects with ShutdownError and nothing is acknowledged).
 */
export async function deliverItems(ctx: DeliveryContext, items: Items): Promise<void> {
  let pending = items;
  let attempt = 0;
  /** This send waits on an operator's block (reported to the health once, and its end once). */
  let blockedHere = false;
  let failuresInARow = 0;
  /** The server answered `GET /` after this body's last failure. */
  let serverAnswered = false;
  const backoff = (minMs = 0) => backoffDelay(attempt++, BACKOFF_BASE_MS, ctx.retryMaxBackoffMs, ctx.random, minMs);
  while (pending.ends.length > 0) {
    const count = pending.ends.length;
    await ctx.limiter.acquire();
    let reply: Reply;
    try {
      reply = await ctx.bulk(pending.body, ctx.failureStore());
    } finally {
      ctx.limiter.release();
    }
    ctx.observer.request(reply.seconds, outcomeLabel(reply));
    if (reply.kind === 'failure') {
      failuresInARow++;
      if (reply.problem === 'connection' && serverAnswered && count > 1) {
        ctx.observer.outputProblem('connection');
        ctx.observer.retried('connection', count, 1);
        ctx.health.splitAfterResets(reply.host, count, pending.body.length, failuresInARow);
        if (blockedHere) ctx.health.indexUnblocked(); // the halves report their own blocks
        const half = Math.ceil(count / 2);
        await Promise.all([deliverItems(ctx, range(pending, 0, half)), deliverItems(ctx, range(pending, half, count))]);
        return;
      }
      serverAnswered = reply.problem === 'connection' && failuresInARow >= RESETS_BEFORE_PROBE && count > 1 && (await ctx.serverAnswers());
      // The server answers, only this body fails: try it again at once, and split if it fails again.
      const wait = serverAnswered ? 0 : backoff();
      ctx.observer.outputProblem(reply.problem);
      ctx.observer.retried(reply.problem, count, 1);
      ctx.limiter.decrease();
      ctx.health.unreachable(reply.host, reply.message, wait);
      await ctx.sleep(wait);
      continue;
    }
    failuresInARow = 0;
    serverAnswered = false;
    const current = pending;
    const outcome = classifyBulkResponse(reply.status, retryAfterMs(reply.headers['retry-after']), reply.body, count, (i) => actionOf(current, i), ctx.failureStore());
    switch (outcome.kind) {
      case 'items': {
        ctx.health.answered(reply.host);
        if (outcome.allDelivered) {
          ctx.health.clusterUnblocked();
          if (blockedHere) ctx.health.indexUnblocked();
          ctx.health.accepted();
          ctx.observer.recordsDelivered(count, pending.body.length);
          ctx.limiter.succeeded();
          return;
        }
        const { again, againFor, blocked } = await settleItems(ctx, pending, outcome.items);
        if (!againFor.has('cluster_block')) ctx.health.clusterUnblocked();
        if (blocked === undefined && blockedHere) {
          blockedHere = false;
          ctx.health.indexUnblocked();
        }
        if (again.ends.length < count) ctx.health.accepted();
        else if (againFor.has('too_many_requests') || againFor.has('server_error')) ctx.health.refused(reply.host, reply.status);
        if (again.ends.length === 0) {
          ctx.limiter.succeeded();
          return;
        }
        // One request goes again, whatever mix of problems its items had: counted under the first.
        let requests = 1;
        for (const [problem, n] of againFor) {
          ctx.observer.outputProblem(problem);
          ctx.observer.retried(problem, n, requests);
          requests = 0;
        }
        let wait: number;
        if (blocked !== undefined) {
          wait = ctx.retryMaxBackoffMs;
          if (!blockedHere) ctx.health.indexBlocked(reply.host, blocked, wait);
          blockedHere = true;
        } else if (againFor.has('cluster_block')) {
          wait = ctx.retryMaxBackoffMs;
          ctx.health.clusterBlock(reply.host, undefined, wait);
        } else if (againFor.has('unauthorized')) {
          wait = ctx.retryMaxBackoffMs; // privileges on an index: slow retries until an operator fixes the role
        } else {
          wait = backoff();
        }
        if (againFor.has('too_many_requests')) ctx.limiter.decrease();
        pending = again;
        await ctx.sleep(wait);
        break;
      }
      case 'retry': {
        ctx.health.answered(reply.host);
        ctx.observer.outputProblem(outcome.problem);
        ctx.observer.retried(outcome.problem, count, 1);
        if (outcome.pushBack) ctx.limiter.decrease();
        let wait: number;
        if (outcome.problem === 'index_blocked' && outcome.error !== undefined) {
          wait = ctx.retryMaxBackoffMs;
          if (!blockedHere) ctx.health.indexBlocked(reply.host, outcome.error, wait);
          blockedHere = true;
        } else if (outcome.problem === 'cluster_block') {
          wait = Math.max(ctx.retryMaxBackoffMs, outcome.retryAfterMs ?? 0);
          ctx.health.clusterBlock(reply.host, outcome.error, wait);
        } else {
          ctx.health.refused(reply.host, reply.status);
          // The server's Retry-After is a floor: it knows better than our guess when it can take more.
          wait = backoff(outcome.retryAfterMs);
        }
        await ctx.sleep(wait);
        break;
      }
      case 'split': {
        ctx.health.answered(reply.host);
        if (blockedHere) ctx.health.indexUnblocked(); // the halves report their own blocks
        ctx.observer.outputProblem(outcome.problem);
        if (count === 1) {
          await setAside(ctx, outcome.problem, [deadLetter(pending.body.toString('utf8'), outcome.status, outcome.error)]);
          return;
        }
        ctx.observer.retried(outcome.problem, count, 1);
        const half = Math.ceil(count / 2);
        await Promise.all([deliverItems(ctx, range(pending, 0, half)), deliverItems(ctx, range(pending, half, count))]);
        return;
      }
      case 'unauthorized': {
        ctx.observer.outputProblem('unauthorized');
        ctx.observer.retried('unauthorized', count, 1);
        ctx.auth.refused();
        ctx.health.unauthorized(reply.host, outcome.status, outcome.error, ctx.retryMaxBackoffMs);
        await ctx.sleep(ctx.retryMaxBackoffMs);
        break;
      }
      case 'stuck': {
        ctx.observer.outputProblem('bad_request');
        ctx.observer.retried('bad_request', count, 1);
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
async function settleItems(ctx: DeliveryContext, pending: Items, outcomes: readonly ItemOutcome[]): Promise<{ again: Items; againFor: Map<OutputProblem, number>; blocked: ServerError | undefined }> {
  let blocked: ServerError | undefined;
  const again: number[] = [];
  const againFor = new Map<OutputProblem, number>();
  const dead = new Map<DeadLetterReason, DeadLetter[]>();
  let delivered = 0;
  let deliveredBytes = 0;
  outcomes.forEach((o, i) => {
    const start = startOf(pending, i);
    const end = pending.ends[i] as number;
    if (o.kind === 'delivered') {
      delivered++;
      deliveredBytes += end - start;
    } else if (o.kind === 'retry') {
      again.push(i);
      againFor.set(o.problem, (againFor.get(o.problem) ?? 0) + 1);
      if (o.problem === 'index_blocked') blocked ??= o.error;
    } else {
      const letter = deadLetter(pending.body.toString('utf8', start, end), o.status, o.error);
      if (o.reason === 'index_not_found') ctx.health.indexMissing(letter.index);
      const list = dead.get(o.reason);
      if (list === undefined) dead.set(o.reason, [letter]);
      else list.push(letter);
    }
  });
  if (delivered > 0) ctx.observer.recordsDelivered(delivered, deliveredBytes);
  for (const [reason, letters] of dead) await setAside(ctx, reason, letters);
  return { again: pick(pending, again), againFor, blocked };
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
    reason === 'failure_store'
      ? "Elasticsearch output: records stored in the data stream's failure store, not in the data stream (its mappings refused them); counted apart, with a copy in the dead-letter file"
      : written < letters.length
      ? 'Elasticsearch output: records rejected; the dead-letter file is full, so some are only counted'
      : 'Elasticsearch output: records rejected; they are in the dead-letter file with the reason',
  );
}
