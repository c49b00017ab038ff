/**
 * A loopback HTTP server that answers as Elasticsearch (7.17, 8.x, 9.x) or OpenSearch 2.x do,
 * for the parts nodetail uses: `GET /`, `_bulk` and `_index_template`. Every answer follows the
 * shapes of Elasticsearch's `_bulk` API (the README's "Elasticsearch output" table). It keeps documents by index and `_id`,
 * so a test can count exactly what the index would hold, and it can be told to misbehave
 * (429 items, 503 requests, 413, slow answers, refused connections, mapping rejections, a
 * cluster block, wrong credentials), always deterministically: every random choice comes from a
 * seeded PRNG.
 *
 * Also runnable on its own for benchmarks and soak runs:
 *   node test/support/fake-elasticsearch.ts --port 9200 --flavour elasticsearch-8
 * prints one JSON line `{"url":"http://127.0.0.1:9200"}` once it listens.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { DataStreams } from './fake-elasticsearch/data-streams.ts';
import { invalidIndexName } from './fake-elasticsearch/index-name.ts';
import { IndexMappings } from './fake-elasticsearch/mappings.ts';
import { BUILT_IN_LOGS_TEMPLATE, matchingTemplate } from './fake-elasticsearch/templates.ts';

export type Flavour = 'elasticsearch-7.17' | 'elasticsearch-8' | 'elasticsearch-9' | 'opensearch-2';

export const FLAVOURS: readonly Flavour[] = ['elasticsearch-7.17', 'elasticsearch-8', 'elasticsearch-9', 'opensearch-2'];

/** What can go wrong, changeable while the server runs (`configure`). */
export interface FakeFaults {
  /** Fraction of bulk items answered 429 es_rejected_execution_exception (not stored). */
  itemRejectRate: number;
  /** Fraction of `_bulk` requests answered 503 (nothing stored). */
  requestFailRate: number;
  /** Milliseconds to wait before each answer. */
  delayMs: number;
  /** `http.max_content_length`: bodies above it (after gunzip) are answered 413. */
  maxBodyBytes: number;
  /** Documents for which this returns true are rejected with a mapping error (item 400). */
  reject: ((doc: unknown, index: string) => boolean) | undefined;
  /** Flood-stage disk block: every bulk item, or the whole request, answered 429 cluster_block_exception. */
  clusterBlock: 'item' | 'request' | undefined;
  /** Sent as `Retry-After` (seconds) with request-level 429/503 answers. */
  retryAfterSeconds: number | undefined;
  /** `action.auto_create_index`: when false, writes to an index that does not exist are item 404s. */
  autoCreateIndex: boolean;
  /**
   * `index.blocks.write` / `index.blocks.read_only` set by an operator on an index or data stream
   * (by name): its writes are item 403 `cluster_block_exception` until the block is removed.
   */
  indexBlocks: Readonly<Record<string, 'write' | 'read_only'>>;
  /** Elasticsearch 9's data stream failure store: a data stream write refused by its mappings is stored aside and answered 201. */
  failureStore: boolean;
  /**
   * How the early 413 reaches the client: `answer` (it reads the 413), or `reset`: closing a socket
   * with unread data in its receive buffer sends a TCP RST, and a client whose RST arrives before
   * it read the answer loses the answer and sees only ECONNRESET (RFC 7230 section 6.6 describes
   * the race). On loopback the answer nearly always wins, so a test picks `reset` to get the other side.
   */
  tooLargeAs: 'answer' | 'reset';
}

export interface FakeAuth {
  readonly username?: string;
  readonly password?: string;
  /** The encoded form sent as `Authorization: ApiKey <apiKey>`. */
  readonly apiKey?: string;
  readonly bearer?: string;
}

export interface FakeElasticsearchOptions extends Partial<FakeFaults> {
  readonly port?: number;
  readonly flavour?: Flavour;
  readonly seed?: number;
  /** When set, every request must carry one of these credentials. */
  readonly auth?: FakeAuth;
  /** Serve HTTPS with this key and certificate (PEM); with `ca`, a client certificate signed by it is required. */
  readonly tls?: { readonly key: string; readonly cert: string; readonly ca?: string };
}

export interface StoredDocument {
  /** The index, or the data stream, the document was written to. */
  readonly index: string;
  /** The concrete index that holds it: the index itself, or a data stream's backing (or failure store) index. */
  readonly concreteIndex: string;
  readonly id: string;
  readonly doc: unknown;
}

export interface RequestSeen {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly status: number;
}

export interface FakeStats {
  /** All HTTP requests answered. */
  requests: number;
  bulkRequests: number;
  gzipRequests: number;
  /** Bulk items seen (every action line of every accepted request body). */
  items: number;
  /** Item answers by status. */
  itemStatuses: Record<number, number>;
  /** Request answers by status. */
  requestStatuses: Record<number, number>;
  /** Body bytes received (as sent: compressed when gzip). */
  bodyBytes: number;
}

export interface FakeElasticsearch {
  readonly url: string;
  readonly port: number;
  readonly flavour: Flavour;
  docs(index?: string): StoredDocument[];
  count(index?: string): number;
  /** Index templates installed with `PUT /_index_template/<name>`. */
  templates(): ReadonlyMap<string, unknown>;
  /** The mapped type of a field of a concrete index (undefined: not mapped, or no such index). */
  mappingOf(index: string, field: string): string | undefined;
  /** Rolls a data stream over to a new write index, as `POST /<name>/_rollover` does; returns the new backing index. */
  rollover(dataStream: string): string;
  /** Documents that a data stream's failure store holds (Elasticsearch 9). */
  failureStoreDocs(): StoredDocument[];
  stats(): FakeStats;
  /** The last 1000 requests, oldest first. */
  requests(): readonly RequestSeen[];
  configure(faults: Partial<FakeFaults>): void;
  /** Stop listening and cut open connections: clients get ECONNREFUSED. */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

interface Version {
  readonly number: string;
  readonly lucene: string;
  readonly wire: string;
  readonly index: string;
  readonly major: number;
}

const VERSIONS: Record<Flavour, Version> = {
  'elasticsearch-7.17': { number: '7.17.24', lucene: '8.11.3', wire: '6.8.0', index: '6.0.0-beta1', major: 7 },
  'elasticsearch-8': { number: '8.15.3', lucene: '9.11.1', wire: '7.17.0', index: '7.0.0', major: 8 },
  'elasticsearch-9': { number: '9.1.5', lucene: '10.2.2', wire: '8.19.0', index: '8.0.0', major: 9 },
  'opensearch-2': { number: '2.17.1', lucene: '9.11.1', wire: '7.10.0', index: '7.0.0', major: 2 },
};

/** mulberry32: small, fast, good enough to spread faults evenly, and repeatable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Entry {
  doc: unknown;
  version: number;
  seqNo: number;
}

/** A concrete index: its documents by `_id`, its mappings, and the data stream it backs, if any. */
interface Index {
  readonly docs: Map<string, Entry>;
  readonly mappings: IndexMappings;
  readonly dataStream: string | undefined;
}

/** An Elasticsearch error body: `{"error":{"root_cause":[...],"type","reason"},"status"}`. */
function errorBody(status: number, type: string, reason: string, extra: Record<string, unknown> = {}): string {
  const cause = { type, reason, ...extra };
  return JSON.stringify({ error: { root_cause: [cause], ...cause }, status });
}

const RANDOM_ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export async function startFakeElasticsearch(options: FakeElasticsearchOptions = {}): Promise<FakeElasticsearch> {
  const flavour = options.flavour ?? 'elasticsearch-8';
  const version = VERSIONS[flavour];
  const isElastic = flavour !== 'opensearch-2';
  // Elasticsearch 8.8 renamed the parse error from mapper_parsing_exception to document_parsing_exception
  // (server/src/main/java/org/elasticsearch/index/mapper/DocumentParsingException.java); 7.17, 8.0-8.7
  // and OpenSearch (which forked from 7.10) say mapper_parsing_exception.
  const [minor = 0] = version.number.split('.').slice(1).map(Number);
  const parseError = isElastic && (version.major > 8 || (version.major === 8 && minor >= 8)) ? 'document_parsing_exception' : 'mapper_parsing_exception';
  /** DocumentParsingException puts the position first (`[1:27] failed to parse...`); MapperParsingException does not. */
  const parseReason = (position: number, reason: string): string => (parseError === 'document_parsing_exception' ? `[1:${position}] ${reason}` : reason);
  const random = prng(options.seed ?? 1);
  const faults: FakeFaults = {
    itemRejectRate: options.itemRejectRate ?? 0,
    requestFailRate: options.requestFailRate ?? 0,
    delayMs: options.delayMs ?? 0,
    maxBodyBytes: options.maxBodyBytes ?? 100 * 1024 * 1024,
    reject: options.reject,
    clusterBlock: options.clusterBlock,
    retryAfterSeconds: options.retryAfterSeconds,
    autoCreateIndex: options.autoCreateIndex ?? true,
    indexBlocks: options.indexBlocks ?? {},
    failureStore: options.failureStore ?? false,
    tooLargeAs: options.tooLargeAs ?? 'answer',
  };
  /** Concrete indices by name. */
  const indices = new Map<string, Index>();
  const templates = new Map<string, unknown>();
  const dataStreams = new DataStreams();
  const seen: RequestSeen[] = [];
  const stats: FakeStats = { requests: 0, bulkRequests: 0, gzipRequests: 0, items: 0, itemStatuses: {}, requestStatuses: {}, bodyBytes: 0 };
  const sockets = new Set<Socket>();
  let seqNo = 0;

  const randomId = (): string => {
    let id = '';
    for (let i = 0; i < 20; i++) id += RANDOM_ID_CHARS[Math.floor(random() * 64)];
    return id;
  };

  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}): void => {
    stats.requests++;
    stats.requestStatuses[status] = (stats.requestStatuses[status] ?? 0) + 1;
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers }, status });
    if (seen.length > 1000) seen.shift();
    const all: Record<string, string | string[]> = { ...headers };
    // Sent on every answer since Elasticsearch 7.14; the official client refuses any 2xx without it.
    if (isElastic) all['x-elastic-product'] = 'Elasticsearch';
    if (body !== '') {
      all['content-type'] = 'application/json; charset=UTF-8';
      all['content-length'] = String(Buffer.byteLength(body));
    }
    const write = () => {
      if (res.destroyed) return;
      res.writeHead(status, all);
      res.end(body);
    };
    if (faults.delayMs > 0) setTimeout(write, faults.delayMs).unref();
    else write();
  };

  const authError = (req: IncomingMessage, res: ServerResponse, reason: string): void => {
    const challenges = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', 'ApiKey'];
    send(req, res, 401, errorBody(401, 'security_exception', reason, { header: { 'WWW-Authenticate': challenges } }), {
      'www-authenticate': challenges,
    });
  };

  /** Null when the request may go on; otherwise the 401 was sent. */
  const checkAuth = (req: IncomingMessage, res: ServerResponse): boolean => {
    const auth = options.auth;
    if (auth === undefined) return true;
    const header = req.headers.authorization;
    const path = (req.url ?? '/').split('?')[0];
    if (header === undefined) {
      authError(req, res, `missing authentication credentials for REST request [${path}]`);
      return false;
    }
    const [scheme = '', value = ''] = header.split(' ', 2);
    const kind = scheme.toLowerCase();
    if (kind === 'basic' && auth.username !== undefined) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const user = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
      if (decoded === `${auth.username}:${auth.password ?? ''}`) return true;
      authError(req, res, `unable to authenticate user [${user}] for REST request [${path}]`);
      return false;
    }
    if ((kind === 'apikey' && value === auth.apiKey) || (kind === 'bearer' && value === auth.bearer)) return true;
    authError(req, res, 'unable to authenticate with provided credentials and anonymous access is not allowed for this request');
    return false;
  };

  /**
   * The vendor media types lock a client to server majors (Elasticsearch's REST compatibility): 8 accepts
   * compatible-with 7 or 8, 9 accepts 8 or 9; 7.x and OpenSearch answer 406.
   */
  const checkMediaType = (req: IncomingMessage, res: ServerResponse): boolean => {
    const values = [req.headers.accept, req.headers['content-type']].filter((v): v is string => typeof v === 'string');
    for (const v of values) {
      const m = /compatible-with=(\d+)/.exec(v);
      if (m === null) continue;
      const n = Number(m[1]);
      if (!isElastic || version.major === 7) {
        send(req, res, 406, errorBody(406, 'media_type_header_exception', `Content-Type header [${v}] is not supported`));
        return false;
      }
      if (n !== version.major && n !== version.major - 1) {
        send(req, res, 400, errorBody(400, 'media_type_header_exception', `Invalid media-type value on headers [Accept, Content-Type]`, {
          caused_by: { type: 'status_exception', reason: `A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match. Accept=${req.headers.accept}, Content-Type=${req.headers['content-type']}` },
        }));
        return false;
      }
    }
    return true;
  };

  const rootInfo = (): string => {
    const v: Record<string, unknown> = {};
    if (!isElastic) v.distribution = 'opensearch';
    Object.assign(v, {
      number: version.number,
      ...(isElastic ? { build_flavor: 'default' } : {}),
      build_type: isElastic ? 'docker' : 'tar',
      build_hash: '0123456789abcdef0123456789abcdef01234567',
      build_date: '2024-10-01T10:00:00.000000000Z',
      build_snapshot: false,
      lucene_version: version.lucene,
      minimum_wire_compatibility_version: version.wire,
      minimum_index_compatibility_version: version.index,
    });
    return JSON.stringify({
      name: 'fake-node-1',
      cluster_name: 'fake-cluster',
      cluster_uuid: 'Xo8vQhzNQ8mWw2AqYc9XQA',
      version: v,
      tagline: isElastic ? 'You Know, for Search' : 'The OpenSearch Project: https://opensearch.org/',
    }, null, 2);
  };

  /** The templates a new index is matched against: those installed, plus Elasticsearch's built-in `logs` (7.9 on). */
  const allTemplates = (): unknown[] => (isElastic ? [...templates.values(), BUILT_IN_LOGS_TEMPLATE] : [...templates.values()]);

  /** A data stream when it exists, or when the template that would create the index has `data_stream`. */
  const isDataStream = (name: string): boolean => dataStreams.has(name) || (!indices.has(name) && matchingTemplate(allTemplates(), name)?.data_stream !== undefined);

  /** A concrete index, made on first write with the mappings of the template that matches its name (or its data stream's). */
  const concrete = (name: string, dataStream: string | undefined): Index => {
    let index = indices.get(name);
    if (index === undefined) {
      const template = matchingTemplate(allTemplates(), dataStream ?? name);
      index = { docs: new Map(), mappings: new IndexMappings(template?.template?.mappings), dataStream };
      indices.set(name, index);
    }
    return index;
  };

  const bulk = (req: IncomingMessage, res: ServerResponse, body: string, pathIndex: string | undefined, started: number): void => {
    stats.bulkRequests++;
    if (body.length === 0) {
      send(req, res, 400, errorBody(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;'));
      return;
    }
    if (!body.endsWith('\n')) {
      send(req, res, 400, errorBody(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]'));
      return;
    }
    if (faults.clusterBlock === 'request') {
      send(req, res, 429, errorBody(429, 'cluster_block_exception', 'index [logs] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];'), retryAfter());
      return;
    }
    if (faults.requestFailRate > 0 && random() < faults.requestFailRate) {
      send(req, res, 503, errorBody(503, 'unavailable_shards_exception', '[logs][0] primary shard is not active Timeout: [1m]'), retryAfter());
      return;
    }
    // Parse the whole request first: a malformed action line fails the request, as in Elasticsearch.
    const lines = body.split('\n');
    lines.pop();
    const ops: Array<{ action: string; meta: Record<string, unknown>; source: string | undefined }> = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        send(req, res, 400, errorBody(400, 'x_content_parse_exception', `[1:1] Unexpected character in action/metadata line [${i + 1}]`));
        return;
      }
      const keys = parsed !== null && typeof parsed === 'object' ? Object.keys(parsed) : [];
      const action = keys[0];
      if (keys.length !== 1 || action === undefined || !['create', 'index', 'delete', 'update'].includes(action)) {
        send(req, res, 400, errorBody(400, 'illegal_argument_exception', `Malformed action/metadata line [${i + 1}], expected one of [create, delete, index, update] but found [${action}]`));
        return;
      }
      const meta = (parsed as Record<string, Record<string, unknown>>)[action] ?? {};
      if ('_type' in meta && (!isElastic || version.major >= 8)) {
        send(req, res, 400, errorBody(400, 'illegal_argument_exception', `Action/metadata line [${i + 1}] contains an unknown parameter [_type]`));
        return;
      }
      if (action === 'delete') {
        ops.push({ action, meta, source: undefined });
        continue;
      }
      const source = lines[++i];
      if (source === undefined) {
        send(req, res, 400, errorBody(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]'));
        return;
      }
      ops.push({ action, meta, source });
    }
    // BulkRequest.validate() (server/src/main/java/org/elasticsearch/action/bulk/BulkRequest.java)
    // runs every item's own validate() first (IndexRequest.validate(): an index is required, an
    // `_id` is at most 512 bytes): one invalid item fails the whole request, nothing is written.
    const invalid: string[] = [];
    for (const op of ops) {
      const index = typeof op.meta._index === 'string' ? op.meta._index : pathIndex;
      if (index === undefined) invalid.push('index is missing');
      const id = op.meta._id;
      if (typeof id === 'string' && Buffer.byteLength(id) > 512) {
        invalid.push(`id [${id}] is too long, must be no longer than 512 bytes but was: ${Buffer.byteLength(id)}`);
      }
    }
    if (invalid.length > 0) {
      send(req, res, 400, errorBody(400, 'action_request_validation_exception', `Validation Failed: ${invalid.map((e, n) => `${n + 1}: ${e};`).join('')}`));
      return;
    }
    const items = ops.map((op) => ({ [op.action]: item(op.action, op.meta, op.source, pathIndex) }));
    const errors = items.some((i) => {
      const status = (Object.values(i)[0] as { status: number }).status;
      return status >= 300;
    });
    send(req, res, 200, JSON.stringify({ took: Math.max(1, Date.now() - started), errors, items }));
  };

  const retryAfter = (): Record<string, string> => (faults.retryAfterSeconds === undefined ? {} : { 'retry-after': String(faults.retryAfterSeconds) });

  const item = (action: string, meta: Record<string, unknown>, source: string | undefined, pathIndex: string | undefined): Record<string, unknown> => {
    stats.items++;
    const answer = (status: number, fields: Record<string, unknown>): Record<string, unknown> => {
      stats.itemStatuses[status] = (stats.itemStatuses[status] ?? 0) + 1;
      return { ...fields, status };
    };
    const index = (typeof meta._index === 'string' ? meta._index : pathIndex) as string; // validated with the request
    const givenId = typeof meta._id === 'string' ? meta._id : undefined;
    const base = { _index: index, _id: givenId ?? null };
    if (action !== 'create' && action !== 'index') {
      return answer(400, { ...base, error: { type: 'illegal_argument_exception', reason: `the fake Elasticsearch does not support [${action}]` } });
    }
    // An index that would have to be created with an invalid name: the item fails, the others go on.
    const badName = indices.has(index) || dataStreams.has(index) ? undefined : invalidIndexName(index);
    if (badName !== undefined) {
      return answer(400, { ...base, error: { type: 'invalid_index_name_exception', reason: badName, index_uuid: '_na_', index } });
    }
    if (faults.clusterBlock === 'item') {
      return answer(429, { ...base, error: { type: 'cluster_block_exception', reason: `index [${index}] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];` } });
    }
    // IndexMetadata.INDEX_WRITE_BLOCK / INDEX_READ_ONLY_BLOCK (server/src/main/java/org/elasticsearch/cluster/metadata/IndexMetadata.java):
    // level FORBIDDEN, ids 8 and 5. The bulk action answers each item of a blocked index with it (403), until an operator removes the block.
    const block = faults.indexBlocks[index];
    if (block !== undefined) {
      const what = block === 'write' ? 'FORBIDDEN/8/index write (api)' : 'FORBIDDEN/5/index read-only (api)';
      return answer(403, { ...base, error: { type: 'cluster_block_exception', reason: `index [${index}] blocked by: [${what}];` } });
    }
    if (faults.itemRejectRate > 0 && random() < faults.itemRejectRate) {
      return answer(429, { ...base, error: { type: 'es_rejected_execution_exception', reason: `rejected execution of coordinating operation [shard_detail=[${index}][0][P], shard_coordinating_and_primary_bytes=0, shard_operation_bytes=1024] OR [node_coordinating_and_primary_bytes=0, node_replica_bytes=0, node_all_bytes=0, node_operation_bytes=1024, max_coordinating_and_primary_bytes=107374182] on EsThreadPoolExecutor[name = node/write, queue capacity = 10000, ...]` } });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(source ?? '');
    } catch {
      return answer(400, { ...base, error: { type: parseError, reason: parseReason(1, 'failed to parse'), caused_by: { type: 'json_parse_exception', reason: 'Unexpected character' } } });
    }
    const dataStream = isDataStream(index);
    if (dataStream && action !== 'create') {
      return answer(400, { ...base, error: { type: 'illegal_argument_exception', reason: `only write ops with an op_type of create are allowed in data streams` } });
    }
    if (dataStream && (doc === null || typeof doc !== 'object' || !('@timestamp' in doc))) {
      return answer(400, { ...base, error: { type: parseError, reason: parseReason((source ?? '').length, 'failed to parse: data stream timestamp field [@timestamp] is missing'), caused_by: { type: 'illegal_argument_exception', reason: 'data stream timestamp field [@timestamp] is missing' } } });
    }
    if (faults.reject !== undefined && faults.reject(doc, index)) {
      return answer(400, { ...base, error: { type: parseError, reason: parseReason(42, `failed to parse field [kubernetes.labels.app] of type [text] in document with id '${givenId ?? ''}'. Preview of field's value: '{name=x}'`), caused_by: { type: 'illegal_argument_exception', reason: 'Cannot parse object as text' } } });
    }
    if (!dataStream && !indices.has(index) && !faults.autoCreateIndex) {
      return answer(404, { ...base, error: { type: 'index_not_found_exception', reason: `no such index [${index}] and [action.auto_create_index] is [false]`, index_uuid: '_na_', index } });
    }
    // A data stream writes to its newest backing index only: an `_id` in an older one is not seen.
    const name = dataStream ? dataStreams.writeIndex(index) : index;
    const target = concrete(name, dataStream ? index : undefined);
    const id = givenId ?? randomId();
    const existing = target.docs.get(id);
    if (existing !== undefined && action === 'create') {
      return answer(409, { _index: name, _id: id, error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [${existing.version}])`, index_uuid: 'aF0nZ3VvUQ2Ck1qK2HcR3g', shard: '0', index: name } });
    }
    const failure = target.mappings.check(doc, id, source ?? '');
    if (failure !== undefined) {
      const column = /at 1:(\d+)$/.exec(failure.caused_by?.reason ?? '')?.[1];
      const error = { type: parseError, reason: parseReason(Number(column ?? 1), failure.reason), ...(failure.caused_by === undefined ? {} : { caused_by: failure.caused_by }) };
      // Elasticsearch 9's failure store (the "Failure store" page; the bulk item field `failure_store`,
      // elasticsearch-specification _global/bulk/types.ts FailureStoreStatus): a data stream document its
      // mappings refuse is stored in the failure index instead, and the item is a success (201, errors stays false).
      if (dataStream && faults.failureStore && version.major >= 9) {
        const failureIndex = dataStreams.failureIndex(index);
        const store = concrete(failureIndex, index);
        const entry: Entry = { doc: { '@timestamp': new Date().toISOString(), document: { id, index, source: doc }, error }, version: 1, seqNo: seqNo++ };
        store.docs.set(id, entry);
        return answer(201, { _index: failureIndex, _id: id, _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: entry.seqNo, _primary_term: 1, failure_store: 'used' });
      }
      return answer(400, { ...base, error });
    }
    const entry: Entry = { doc, version: (existing?.version ?? 0) + 1, seqNo: seqNo++ };
    target.docs.set(id, entry);
    return answer(existing === undefined ? 201 : 200, {
      _index: name,
      _id: id,
      _version: entry.version,
      result: existing === undefined ? 'created' : 'updated',
      _shards: { total: 2, successful: 1, failed: 0 },
      _seq_no: entry.seqNo,
      _primary_term: 1,
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    // http.max_content_length, Elasticsearch 8/9: the Netty pipeline (modules/transport-netty4/.../
    // Netty4HttpServerTransport.java with Netty's HttpObjectAggregator) answers from the
    // Content-Length header alone, before reading the body: 413, no body, `Connection: close`, and
    // the socket is closed. A client still writing a large body sees its connection reset.
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > faults.maxBodyBytes) {
      stats.requests++;
      stats.requestStatuses[413] = (stats.requestStatuses[413] ?? 0) + 1;
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers }, status: 413 });
      if (seen.length > 1000) seen.shift();
      if (faults.tooLargeAs === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      res.shouldKeepAlive = false;
      res.writeHead(413, { 'content-length': '0', connection: 'close', ...(isElastic ? { 'x-elastic-product': 'Elasticsearch' } : {}) });
      res.end(() => req.socket.destroy());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      stats.bodyBytes += received;
      if (!checkAuth(req, res) || !checkMediaType(req, res)) return;
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') {
        stats.gzipRequests++;
        try {
          raw = gunzipSync(raw, { maxOutputLength: faults.maxBodyBytes + 1 });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') send(req, res, 413, '');
          else send(req, res, 400, errorBody(400, 'parse_exception', 'request body is not valid gzip'));
          return;
        }
      }
      // http.max_content_length applies to the decoded body too (a gzip body under the limit that
      // inflates past it): then the body was read, and the answer is the same empty 413.
      if (raw.length > faults.maxBodyBytes) {
        send(req, res, 413, '');
        return;
      }
      const path = (req.url ?? '/').split('?')[0] as string;
      const method = req.method ?? 'GET';
      const segments = path.split('/').filter((s) => s !== '');
      if ((method === 'GET' || method === 'HEAD') && segments.length === 0) {
        send(req, res, 200, method === 'HEAD' ? '' : rootInfo());
      } else if ((method === 'POST' || method === 'PUT') && segments.at(-1) === '_bulk' && segments.length <= 2) {
        bulk(req, res, raw.toString('utf8'), segments.length === 2 ? decodeURIComponent(segments[0] as string) : undefined, started);
      } else if (method === 'POST' && segments.length === 2 && segments[1] === '_rollover' && dataStreams.has(decodeURIComponent(segments[0] as string))) {
        // The rollover API's answer (elasticsearch-specification indices/rollover/IndicesRolloverResponse.ts).
        const { oldIndex, newIndex } = dataStreams.rollover(decodeURIComponent(segments[0] as string));
        send(req, res, 200, JSON.stringify({ acknowledged: true, shards_acknowledged: true, old_index: oldIndex, new_index: newIndex, rolled_over: true, dry_run: false, lazy: false, conditions: {} }));
      } else if (method === 'PUT' && segments.length === 2 && segments[0] === '_index_template') {
        try {
          templates.set(decodeURIComponent(segments[1] as string), JSON.parse(raw.toString('utf8')));
        } catch {
          send(req, res, 400, errorBody(400, 'x_content_parse_exception', '[1:1] Unexpected character'));
          return;
        }
        send(req, res, 200, JSON.stringify({ acknowledged: true }));
      } else {
        send(req, res, 405, errorBody(405, 'illegal_argument_exception', `Incorrect HTTP method for uri [${req.url}] and method [${method}]`));
      }
    });
  };

  const tls = options.tls;
  const server: Server = tls === undefined
    ? createServer({ keepAliveTimeout: 60_000 }, handle)
    : createHttpsServer({ keepAliveTimeout: 60_000, key: tls.key, cert: tls.cert, ...(tls.ca === undefined ? {} : { ca: tls.ca, requestCert: true, rejectUnauthorized: true }) }, handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  const port = await listen(options.port ?? 0);
  const url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;

  /** Documents by index or data stream name (a data stream's are in all its backing indices). */
  const listDocs = (index?: string, failureStore = false): StoredDocument[] => {
    const out: StoredDocument[] = [];
    for (const [name, state] of indices) {
      if (name.startsWith('.fs-') !== failureStore) continue;
      const shown = state.dataStream ?? name;
      if (index !== undefined && shown !== index && name !== index) continue;
      for (const [id, e] of state.docs) out.push({ index: shown, concreteIndex: name, id, doc: e.doc });
    }
    return out;
  };

  return {
    url,
    port,
    flavour,
    docs: listDocs,
    count: (index) => listDocs(index).length,
    templates: () => templates,
    mappingOf: (index, field) => indices.get(index)?.mappings.typeOf(field),
    rollover: (dataStream) => dataStreams.rollover(dataStream).newIndex,
    failureStoreDocs: () => listDocs(undefined, true),
    stats: () => structuredClone(stats),
    requests: () => seen.slice(),
    configure: (f) => Object.assign(faults, f),
    down: stop,
    up: async () => {
      if (!server.listening) await listen(port);
    },
    close: stop,
  };
}

function argValue(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}

async function main(argv: readonly string[]): Promise<void> {
  const flavour = (argValue(argv, '--flavour') ?? 'elasticsearch-8') as Flavour;
  if (!FLAVOURS.includes(flavour)) throw new Error(`--flavour: expected one of ${FLAVOURS.join(', ')}, got ${flavour}`);
  const num = (name: string): number | undefined => {
    const v = argValue(argv, name);
    return v === undefined ? undefined : Number(v);
  };
  const options: { -readonly [K in keyof FakeElasticsearchOptions]: FakeElasticsearchOptions[K] } = { flavour };
  const port = num('--port');
  if (port !== undefined) options.port = port;
  const seed = num('--seed');
  if (seed !== undefined) options.seed = seed;
  const itemRejectRate = num('--item-reject-rate');
  if (itemRejectRate !== undefined) options.itemRejectRate = itemRejectRate;
  const requestFailRate = num('--request-fail-rate');
  if (requestFailRate !== undefined) options.requestFailRate = requestFailRate;
  const delayMs = num('--delay-ms');
  if (delayMs !== undefined) options.delayMs = delayMs;
  const fake = await startFakeElasticsearch(options);
  process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
  const stopAll = () => {
    process.stderr.write(`${JSON.stringify({ stored: fake.count(), stats: fake.stats() })}\n`);
    void fake.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stopAll);
  process.once('SIGINT', stopAll);
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
