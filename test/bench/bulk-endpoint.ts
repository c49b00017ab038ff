import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A loopback Elasticsearch `_bulk` endpoint that costs as little CPU as possible, so that
 * on a 2-core machine the figures measure the shipper, not the receiver. It reads just
 * enough of each body to answer every item `201 created` (as Elasticsearch 8 does) and to
 * count distinct records by the `seq=<n>` token each generated message carries.
 *
 * Run as a script (`node test/bench/bulk-endpoint.ts`, forked with an IPC channel) it is
 * the benchmark's receiver in its own process; `startBulkEndpoint` is the same thing
 * in-process, for tests.
 */

export interface BulkEndpointReset {
  /** Records are expected with `seq` in `[seqBase, seqBase + seqCount)`. */
  readonly seqBase: number;
  readonly seqCount: number;
  /** Record the delay between each item's `wt=<epoch ms>` and its arrival. */
  readonly latency: boolean;
}

export interface BulkEndpointStats {
  readonly requests: number;
  readonly bodyBytes: number;
  /** Action lines received: documents, whatever they contain. */
  readonly items: number;
  /** Distinct `seq` values in the expected range. */
  readonly distinct: number;
  /** Items whose `seq` had been received before. */
  readonly duplicates: number;
  /** Items whose `seq` is outside the expected range (left from an earlier phase). */
  readonly foreign: number;
  /** Items without a `seq` (a shipper that does not join CRI partial lines sends some). */
  readonly withoutSeq: number;
  /** Epoch ms of the first and last request that brought items; 0 before any. */
  readonly firstItemAt: number;
  readonly lastItemAt: number;
  /** Epoch ms when the last new distinct `seq` arrived. */
  readonly lastDistinctAt: number;
  /** Write-to-arrival delays in ms, when the reset and this query asked for them. */
  readonly latency: { readonly count: number; readonly p50: number; readonly p99: number; readonly max: number } | undefined;
  /** CPU the endpoint itself used, in seconds (user + system), since start. */
  readonly endpointCpuSeconds: number;
}

export interface BulkEndpoint {
  readonly port: number;
  reset(reset: BulkEndpointReset): void;
  stats(withLatency?: boolean): BulkEndpointStats;
  close(): Promise<void>;
}

const NL = 10;
const SEQ = Buffer.from('seq=');
const WT = Buffer.from('wt=');
const INDEX_KEY = Buffer.from('"_index":"');
const ID_KEY = Buffer.from('"_id":"');
const QUOTE = 34;
const ES_HEADERS = { 'x-elastic-product': 'Elasticsearch', 'content-type': 'application/json' };
/** What Elasticsearch 8 answers on `GET /`: what version detection reads. */
const ROOT_BODY = JSON.stringify({
  name: 'bench-endpoint',
  cluster_name: 'nodetail-bench',
  cluster_uuid: 'bench0000000000000000',
  version: {
    number: '8.15.0',
    build_flavor: 'default',
    build_type: 'docker',
    lucene_version: '9.11.1',
    minimum_wire_compatibility_version: '7.17.0',
    minimum_index_compatibility_version: '7.0.0',
  },
  tagline: 'You Know, for Search',
});

class BulkCounter {
  requests = 0;
  bodyBytes = 0;
  items = 0;
  distinct = 0;
  duplicates = 0;
  foreign = 0;
  withoutSeq = 0;
  firstItemAt = 0;
  lastItemAt = 0;
  lastDistinctAt = 0;
  seqBase = 0;
  seen = new Uint8Array(0);
  delays: number[] | undefined;
  generatedIds = 0;

  reset(reset: BulkEndpointReset): void {
    this.requests = 0;
    this.bodyBytes = 0;
    this.items = 0;
    this.distinct = 0;
    this.duplicates = 0;
    this.foreign = 0;
    this.withoutSeq = 0;
    this.firstItemAt = 0;
    this.lastItemAt = 0;
    this.lastDistinctAt = 0;
    this.seqBase = reset.seqBase;
    this.seen = new Uint8Array(reset.seqCount);
    this.delays = reset.latency ? [] : undefined;
  }

  /** Counts one `_bulk` body and returns the response body. */
  bulk(body: Buffer, pathIndex: string): string {
    const now = Date.now();
    this.requests++;
    this.bodyBytes += body.length;
    const items: string[] = [];
    let isAction = true;
    let action = '';
    let at = 0;
    while (at < body.length) {
      let end = body.indexOf(NL, at);
      if (end === -1) end = body.length;
      if (end > at) {
        if (isAction) {
          action = this.#item(body.subarray(at, end), pathIndex);
          isAction = false;
        } else {
          items.push(action);
          this.#document(body, at, end, now);
          isAction = true;
        }
      }
      at = end + 1;
    }
    if (items.length > 0) {
      this.items += items.length;
      if (this.firstItemAt === 0) this.firstItemAt = now;
      this.lastItemAt = now;
    }
    return `{"took":1,"errors":false,"items":[${items.join(',')}]}`;
  }

  /** The response item for one action line: `_index` and `_id` copied as they came. */
  #item(line: Buffer, pathIndex: string): string {
    // `{"create":{...}}`: the action is the first key.
    const actionEnd = line.indexOf(QUOTE, 2);
    const action = actionEnd > 2 ? line.toString('latin1', 2, actionEnd) : 'index';
    const index = quotedAfter(line, INDEX_KEY) ?? pathIndex;
    const id = quotedAfter(line, ID_KEY) ?? `bench${++this.generatedIds}`;
    return `{"${action}":{"_index":"${index}","_id":"${id}","_version":1,"result":"created","status":201}}`;
  }

  /**
   * The document in `body[start, end)`. Searched in place, without a view per line: the
   * endpoint shares the machine with the shipper, so its own cost is kept small.
   */
  #document(body: Buffer, start: number, end: number, now: number): void {
    const at = body.indexOf(SEQ, start);
    if (at === -1 || at >= end) {
      this.withoutSeq++;
      return;
    }
    const seq = digitsAt(body, at + SEQ.length);
    const slot = seq - this.seqBase;
    if (seq < 0 || slot < 0 || slot >= this.seen.length) {
      this.foreign++;
    } else if (this.seen[slot] === 1) {
      this.duplicates++;
    } else {
      this.seen[slot] = 1;
      this.distinct++;
      this.lastDistinctAt = now;
    }
    if (this.delays !== undefined) {
      const wt = body.indexOf(WT, at);
      if (wt !== -1 && wt < end) this.delays.push(now - digitsAt(body, wt + WT.length));
    }
  }

  /** `withLatency` sorts every delay: ask once at the end of a phase, not at each poll. */
  stats(withLatency: boolean): BulkEndpointStats {
    const usage = process.cpuUsage();
    return {
      requests: this.requests,
      bodyBytes: this.bodyBytes,
      items: this.items,
      distinct: this.distinct,
      duplicates: this.duplicates,
      foreign: this.foreign,
      withoutSeq: this.withoutSeq,
      firstItemAt: this.firstItemAt,
      lastItemAt: this.lastItemAt,
      lastDistinctAt: this.lastDistinctAt,
      latency: this.delays === undefined || !withLatency ? undefined : percentiles(this.delays),
      endpointCpuSeconds: (usage.user + usage.system) / 1e6,
    };
  }
}

/** The JSON string value after `key` (which ends with the opening quote), raw, or undefined. */
function quotedAfter(line: Buffer, key: Buffer): string | undefined {
  const at = line.indexOf(key);
  if (at === -1) return undefined;
  const start = at + key.length;
  let end = start;
  // Skip escaped quotes; ids and index names rarely have any.
  while (end < line.length && (line[end] !== QUOTE || line[end - 1] === 0x5c)) end++;
  return line.toString('utf8', start, end);
}

/** The decimal number starting at `at`; -1 when there is none. */
function digitsAt(line: Buffer, at: number): number {
  let value = 0;
  let i = at;
  for (; i < line.length; i++) {
    const c = line[i] as number;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
  }
  return i === at ? -1 : value;
}

function percentiles(delays: readonly number[]): { count: number; p50: number; p99: number; max: number } {
  if (delays.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(delays).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] as number };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      resolve(req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
    });
    req.on('error', reject);
  });
}

async function handle(counter: BulkCounter, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://endpoint');
  const body = await readBody(req);
  const bulk = /^\/(?:([^/]+)\/)?_bulk$/.exec(url.pathname);
  let answer: string;
  if (bulk !== null && req.method === 'POST') {
    answer = counter.bulk(body, bulk[1] === undefined ? 'bench' : decodeURIComponent(bulk[1]));
  } else if (url.pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    answer = ROOT_BODY;
  } else {
    // Templates, ILM policies and the like: accepted, so set-up code goes on.
    answer = '{"acknowledged":true}';
  }
  res.writeHead(200, { ...ES_HEADERS, 'content-length': Buffer.byteLength(answer) });
  res.end(req.method === 'HEAD' ? undefined : answer);
}

export async function startBulkEndpoint(port = 0): Promise<BulkEndpoint> {
  const counter = new BulkCounter();
  const server = createServer((req, res) => {
    handle(counter, req, res).catch((error: unknown) => {
      res.writeHead(500, ES_HEADERS);
      res.end(JSON.stringify({ error: { type: 'bench_endpoint_exception', reason: String(error) }, status: 500 }));
    });
  });
  // Shippers keep connections alive for a long time and send bodies of many MB.
  server.keepAliveTimeout = 120_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    reset: (reset) => counter.reset(reset),
    stats: (withLatency = false) => counter.stats(withLatency),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Messages between the benchmark and the endpoint process. */
export type EndpointRequest =
  | { readonly type: 'reset'; readonly id: number; readonly reset: BulkEndpointReset }
  | { readonly type: 'stats'; readonly id: number; readonly withLatency: boolean };
export type EndpointReply =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'reset'; readonly id: number }
  | { readonly type: 'stats'; readonly id: number; readonly stats: BulkEndpointStats };

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('bulk-endpoint.ts must be forked with an IPC channel');
  const endpoint = await startBulkEndpoint();
  process.on('message', (message: EndpointRequest) => {
    if (message.type === 'reset') {
      endpoint.reset(message.reset);
      send({ type: 'reset', id: message.id } satisfies EndpointReply);
    } else {
      send({ type: 'stats', id: message.id, stats: endpoint.stats(message.withLatency) } satisfies EndpointReply);
    }
  });
  // The benchmark going away, even by a crash, ends the endpoint.
  process.on('disconnect', () => {
    void endpoint.close().then(() => process.exit(0));
  });
  send({ type: 'listening', port: endpoint.port } satisfies EndpointReply);
}

if (import.meta.main) await main();
