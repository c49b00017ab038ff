import { promisify } from 'node:util';
import { gzip as gzipCallback, constants as zlib } from 'node:zlib';
import { Pool } from '../../core/undici-pool.ts';
import { ShutdownError } from '../../core/errors.ts';
import type { Authorization } from './authorization.ts';

const gzip = promisify(gzipCallback);

/**
 * The send stage, and the one file that speaks HTTP (undici). One keep-alive Pool per host;
 * hosts are used in turn, and a host that failed (refused, reset, timed out, 5xx) is set aside
 * for a while, longer after each failure in a row. When every host is set aside, the one that
 * comes back first is tried anyway: a single-host cluster must not wait longer than its retry.
 */

export interface TlsFiles {
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly rejectUnauthorized: boolean;
}

export type Reply =
  | { readonly kind: 'response'; readonly host: string; readonly status: number; readonly headers: Readonly<Record<string, string | string[] | undefined>>; readonly body: string; readonly seconds: number }
  | { readonly kind: 'failure'; readonly host: string; readonly problem: 'timeout' | 'connection'; readonly message: string; readonly seconds: number };

export interface Host {
  /** `scheme://host:port` plus the URL's path, without credentials: safe to log. */
  readonly label: string;
  readonly origin: string;
  readonly basePath: string;
}

interface HostState extends Host {
  readonly pool: Pool;
  failures: number;
  asideUntil: number;
}

const ASIDE_BASE_MS = 1000;
const ASIDE_MAX_MS = 60_000;

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

export class BulkTransport {
  readonly #hosts: HostState[];
  readonly #auth: Authorization;
  readonly #timeoutMs: number;
  readonly #gzip: boolean;
  readonly #closing: AbortSignal;
  readonly #now: () => number;
  #next = 0;

  constructor(options: {
    readonly hosts: readonly Host[];
    readonly tls: TlsFiles;
    readonly auth: Authorization;
    readonly timeoutMs: number;
    readonly gzip: boolean;
    readonly connections: number;
    readonly closing: AbortSignal;
    readonly now?: () => number;
  }) {
    this.#auth = options.auth;
    this.#timeoutMs = options.timeoutMs;
    this.#gzip = options.gzip;
    this.#closing = options.closing;
    this.#now = options.now ?? Date.now;
    const { ca, cert, key, rejectUnauthorized } = options.tls;
    const connect = {
      timeout: Math.min(options.timeoutMs, 10_000),
      rejectUnauthorized,
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
    };
    this.#hosts = options.hosts.map((h) => ({
      ...h,
      pool: new Pool(h.origin, {
        connections: options.connections,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        connect,
      }),
      failures: 0,
      asideUntil: 0,
    }));
  }

  /**
   * `POST <base>/_bulk` with an NDJSON body. `failureStore`: the server may answer items with a
   * data stream failure store, so an answer that says no item failed is kept whole if one says so.
   */
  bulk(body: Buffer, failureStore = false): Promise<Reply> {
    return this.#send(this.#pick(), 'POST', '/_bulk', body, 'application/x-ndjson', true, failureStore);
  }

  /** `GET <base>/` on one host, for server detection. */
  probe(host: Host): Promise<Reply> {
    return this.#send(this.#hosts.find((h) => h.label === host.label) ?? this.#pick(), 'GET', '/', undefined, undefined);
  }

  async close(): Promise<void> {
    await Promise.all(this.#hosts.map((h) => h.pool.destroy().catch(() => undefined)));
  }

  #pick(): HostState {
    const now = this.#now();
    const n = this.#hosts.length;
    for (let i = 0; i < n; i++) {
      const h = this.#hosts[(this.#next + i) % n] as HostState;
      if (h.asideUntil <= now) {
        this.#next = (this.#next + i + 1) % n;
        return h;
      }
    }
    let soonest = this.#hosts[0] as HostState;
    for (const h of this.#hosts) if (h.asideUntil < soonest.asideUntil) soonest = h;
    return soonest;
  }

  #failed(h: HostState): void {
    h.failures++;
    h.asideUntil = this.#now() + Math.min(ASIDE_MAX_MS, ASIDE_BASE_MS * 2 ** Math.min(h.failures - 1, 16));
  }

  /** `skim`: a `_bulk` answer that says no item failed is read but not kept (see `readAnswer`). */
  async #send(h: HostState, method: string, path: string, body: string | Buffer | undefined, contentType: string | undefined, skim = false, failureStore = false): Promise<Reply> {
    if (this.#closing.aborted) throw new ShutdownError();
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const headers: Record<string, string> = { accept: 'application/json' };
    const authorization = await this.#auth.header();
    if (authorization !== undefined) headers.authorization = authorization;
    let payload: string | Buffer | undefined = body;
    if (body !== undefined && contentType !== undefined) {
      headers['content-type'] = contentType;
      if (this.#gzip) {
        // Level 1: log text still shrinks 5-10x, at a fraction of the CPU of the default level.
        payload = await gzip(body, { level: zlib.Z_BEST_SPEED });
        headers['content-encoding'] = 'gzip';
      }
    }
    const signal = AbortSignal.any([this.#closing, AbortSignal.timeout(this.#timeoutMs)]);
    try {
      const res = await h.pool.request({ method: method as 'GET', path: h.basePath + path, headers, body: payload ?? null, signal });
      const text = await readAnswer(res.body, skim && res.statusCode >= 200 && res.statusCode < 300, failureStore);
      if (res.statusCode >= 500) this.#failed(h);
      else h.failures = 0;
      return { kind: 'response', host: h.label, status: res.statusCode, headers: res.headers, body: text, seconds: seconds() };
    } catch (err) {
      if (this.#closing.aborted) throw new ShutdownError();
      this.#failed(h);
      const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
      const code = e.code ?? e.cause?.code ?? '';
      const timeout = TIMEOUT_CODES.has(code) || e.name === 'TimeoutError' || (e.name === 'AbortError' && signal.aborted);
      const message = code !== '' ? `${code}: ${e.message ?? ''}` : (e.message ?? String(err));
      // Anything that is not a timeout (refused, reset, TLS failures, a bad certificate) is a failure to reach the host.
      return { kind: 'failure', host: h.label, problem: timeout ? 'timeout' : 'connection', message, seconds: seconds() };
    }
  }
}

/** `"errors"` is the first or second key of a `_bulk` answer: it is within these bytes. */
const HEAD_BYTES = 64;

/** An item Elasticsearch 9 stored in a failure store: a success (`errors` stays false) that is not one. */
const FAILURE_STORE_USED = Buffer.from('"failure_store":"used"');

/**
 * The answer's text. With `skim`, an answer whose head says `"errors":false` is only drained: it
 * is megabytes that say "201" per item, and kept as one string it would go to V8's large-object
 * space with every request, where it lingers until a full GC (about 30 MB at a time in the
 * 2,000,000-line benchmark). Its head alone answers the classification.
 */
async function readAnswer(body: AsyncIterable<Buffer>, skim: boolean, failureStore: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  let head: string | undefined;
  // With a failure store, the chunks are kept (as Buffers, outside V8's heap) and searched as they
  // come: the answer is kept whole only when an item says `"failure_store":"used"`.
  let used = false;
  let tail: Buffer | undefined;
  for await (const chunk of body) {
    if (failureStore && !used) {
      used = chunk.indexOf(FAILURE_STORE_USED) >= 0
        || (tail !== undefined && Buffer.concat([tail, chunk.subarray(0, FAILURE_STORE_USED.length - 1)]).indexOf(FAILURE_STORE_USED) >= 0);
      tail = chunk.subarray(Math.max(0, chunk.length - FAILURE_STORE_USED.length + 1));
    }
    if (head !== undefined && !failureStore) continue;
    chunks.push(chunk);
    length += chunk.length;
    if (skim && length >= HEAD_BYTES) {
      const start = Buffer.concat(chunks, length).toString('utf8', 0, HEAD_BYTES);
      if (start.includes('"errors":false')) head = start;
      skim = false;
    }
  }
  return head !== undefined && !used ? head : Buffer.concat(chunks, length).toString('utf8');
}
