import type { Log } from '../../core/log.ts';
import type { ServerError } from './classify-bulk-response.ts';

type Trouble = 'unreachable' | 'unauthorized' | 'stuck' | 'cluster_block' | 'index_blocked' | 'refusing';

/**
 * Answers in a row that stored nothing (request 429 or 5xx, a proxy's 502, every item 429) before
 * the output is unready: one is routine under load, a run of them is an incident to report.
 */
const REFUSALS_BEFORE_UNREADY = 3;

/**
 * Whether the output can deliver (for /readyz), and the self-log of its troubles: each trouble
 * is logged loudly once when it starts and once when it ends, not on every retry. Server
 * reasons are logged for request-level errors only (they name users and settings, never
 * documents); item reasons may quote a document's field, so those go to the dead-letter file.
 */
export class SinkHealth {
  readonly #log: Log;
  readonly #auth: string;
  readonly #troubles = new Set<Trouble>();
  readonly #missingIndices = new Set<string>();
  #answered = false;
  #failuresInARow = 0;
  /** While an operator's block refuses writes: what /readyz says. */
  #blocked: string | undefined;
  /** Sends waiting on a block: the state ends when the last of them gets through. */
  #blockedSends = 0;
  #splitAfterResetsLogged = false;
  #refusalsInARow = 0;

  constructor(log: Log, authDescription: string) {
    this.#log = log;
    this.#auth = authDescription;
  }

  /** Not ready while the server cannot be reached, refuses us, or answers but stores nothing (a cluster block, 429s, 5xx). */
  ready(): boolean {
    return this.#answered && this.#troubles.size === 0;
  }

  /** The trouble an operator must act on, for /readyz; undefined when there is none. */
  problem(): string | undefined {
    return this.#blocked;
  }

  /** The server answered and stored nothing of the request (429, 5xx, a proxy's 502, every item 429). */
  refused(host: string, status: number): void {
    if (++this.#refusalsInARow < REFUSALS_BEFORE_UNREADY) return;
    if (this.#start('refusing')) {
      this.#log.warn({ host, status, inARow: this.#refusalsInARow }, 'Elasticsearch output: the server keeps refusing writes (429 or 5xx); not ready, retrying with backoff, nothing is dropped');
    }
  }

  /** The server stored some or all of a request. */
  accepted(): void {
    this.#refusalsInARow = 0;
    if (this.#troubles.delete('refusing')) this.#log.info({}, 'Elasticsearch output: the server accepts writes again');
  }

  /** The server answered a request normally. */
  answered(host: string): void {
    this.#answered = true;
    this.#failuresInARow = 0;
    for (const t of ['unreachable', 'unauthorized', 'stuck'] as const) {
      if (this.#troubles.delete(t)) this.#log.info({ host, recovered: t }, 'Elasticsearch output: the server answers normally again');
    }
  }

  /**
   * A request got no answer. One failure alone is often a keep-alive connection the server or a
   * proxy closed just as it was reused; it is retried at once and is no outage. So a bulk failure
   * counts only when another follows before any answer; `certain` (the start-up probe) counts at once.
   */
  unreachable(host: string, message: string, retryMs: number, certain = false): void {
    if (++this.#failuresInARow < 2 && !certain) return;
    if (this.#start('unreachable')) {
      this.#log.error({ host, error: message, retryMs }, 'Elasticsearch output: cannot reach the server; records wait (nothing is dropped) and the request is retried');
    }
  }

  unauthorized(host: string, status: number, error: ServerError, retryMs: number): void {
    if (this.#start('unauthorized')) {
      this.#log.error(
        { host, status, type: error.type, reason: error.reason, auth: this.#auth, retryMs },
        `Elasticsearch output: the server refused the credentials (${status}); check elasticsearch_username / elasticsearch_password / elasticsearch_api_key / elasticsearch_bearer_token_file. Not ready; retrying slowly`,
      );
    }
  }

  stuck(host: string, status: number, error: ServerError, retryMs: number): void {
    if (this.#start('stuck')) {
      this.#log.error(
        { host, status, type: error.type, reason: error.reason, retryMs },
        `Elasticsearch output: the server answered ${status} to the whole request (a wrong URL path or a version mismatch); not ready, retrying slowly, nothing is dropped`,
      );
    }
  }

  clusterBlock(host: string, error: ServerError | undefined, retryMs: number): void {
    if (this.#start('cluster_block')) {
      this.#log.warn({ host, type: 'cluster_block_exception', reason: error?.reason ?? '', retryMs }, 'Elasticsearch output: the cluster blocks writes (disk flood stage?); retrying with a long backoff, nothing is dropped');
    }
  }

  /**
   * A write or read-only block an operator set (403 cluster_block_exception): not ready, one loud
   * error naming the index and what must be done. The reason names only the index and the block.
   */
  indexBlocked(host: string, error: ServerError, retryMs: number): void {
    this.#blockedSends++;
    if (!this.#start('index_blocked')) return;
    const index = /^index \[([^\]]*)\]/.exec(error.reason)?.[1];
    const setting = error.reason.includes('/5/') ? 'index.blocks.read_only' : error.reason.includes('/8/') ? 'index.blocks.write' : 'a block';
    const action = index === undefined
      ? 'an operator must lift the cluster block (cluster.blocks.read_only)'
      : `an operator must remove it (PUT ${index}/_settings {"${setting === 'a block' ? 'index.blocks.write' : setting}": null}), or roll its data stream over or change the ILM phase that set it`;
    this.#blocked = `output elasticsearch: ${index === undefined ? 'the cluster' : `index ${index}`} refuses writes (${setting}); ${action}`;
    this.#log.error(
      { host, index, type: error.type, reason: error.reason, retryMs },
      `Elasticsearch output: ${index === undefined ? 'the cluster' : `index ${index}`} has a write block (${setting}); records wait (nothing is dropped) and are retried every ${retryMs} ms; ${action}`,
    );
  }

  /** One send that `indexBlocked` reported got through. */
  indexUnblocked(): void {
    if (--this.#blockedSends > 0 || !this.#troubles.delete('index_blocked')) return;
    this.#blocked = undefined;
    this.#log.info({}, 'Elasticsearch output: the write block is gone; records flow again');
  }

  /** A body whose connection keeps being reset while the server answers: logged the first time only. */
  splitAfterResets(host: string, records: number, bytes: number, failures: number): void {
    if (this.#splitAfterResetsLogged) return;
    this.#splitAfterResetsLogged = true;
    this.#log.warn(
      { host, records, bytes, failures },
      'Elasticsearch output: a request failed on its connection several times in a row while the server answers others (a body above http.max_content_length, answered 413 and reset?); split in halves, and so from now on without a log line',
    );
  }

  clusterUnblocked(): void {
    if (this.#troubles.delete('cluster_block')) this.#log.info({}, 'Elasticsearch output: the cluster accepts writes again');
  }

  /** A 404 index_not_found: a configuration problem (auto-create off, a missing data stream template). */
  indexMissing(index: string): void {
    if (this.#missingIndices.size < 100 && !this.#missingIndices.has(index)) {
      this.#missingIndices.add(index);
      this.#log.error({ index }, 'Elasticsearch output: index not found (automatic index creation disabled, or no matching data stream template?); its records go to the dead-letter file');
    }
  }

  #start(t: Trouble): boolean {
    if (this.#troubles.has(t)) return false;
    this.#troubles.add(t);
    return true;
  }
}
