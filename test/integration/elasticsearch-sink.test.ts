/**
 * The real Elasticsearch sink against the fake Elasticsearch over loopback: every record is in
 * the index exactly once (by `_id`) whatever the server does, rejections land in the
 * dead-letter file with their reason, and no secret reaches the self-log.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BodyBuilder } from '../../agent/batch/body-builder.ts';
import { loadConfig, type ElasticsearchConfig } from '../../agent/config/load-config.ts';
import { ShutdownError } from '../../agent/core/errors.ts';
import { DOCUMENT_MAPPINGS } from '../../agent/core/document-mappings.ts';
import type { Log } from '../../agent/core/log.ts';
import type { OutputObserver } from '../../agent/core/observer.ts';
import type { LogFile, LogRecord } from '../../agent/core/record.ts';
import type { Batch } from '../../agent/core/sink.ts';
import { createElasticsearchSink, type ElasticsearchSink } from '../../agent/sink/elasticsearch/elasticsearch-sink.ts';
import { startFakeElasticsearch, type FakeElasticsearch, type FakeElasticsearchOptions } from '../support/fake-elasticsearch.ts';

interface LogLine {
  level: string;
  fields: object;
  message: string;
}

class RecordingObserver implements OutputObserver {
  delivered = 0;
  deliveredBytes = 0;
  retries = new Map<string, number>();
  problems = new Map<string, number>();
  dead = new Map<string, number>();
  outcomes = new Map<string, number>();
  recordsDelivered(records: number, bytes: number): void {
    this.delivered += records;
    this.deliveredBytes += bytes;
  }
  /** Records sent again, and the failed requests they were in, by problem. */
  retriedRequests = new Map<string, number>();
  retried(problem: string, records: number, requests: number): void {
    this.retries.set(problem, (this.retries.get(problem) ?? 0) + records);
    this.retriedRequests.set(problem, (this.retriedRequests.get(problem) ?? 0) + requests);
  }
  outputProblem(problem: string): void {
    this.problems.set(problem, (this.problems.get(problem) ?? 0) + 1);
  }
  deadLettered(reason: string, records: number): void {
    this.dead.set(reason, (this.dead.get(reason) ?? 0) + records);
  }
  request(_seconds: number, outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }
}

interface Harness {
  fake: FakeElasticsearch;
  sink: ElasticsearchSink;
  observer: RecordingObserver;
  logs: LogLine[];
  dir: string;
}

const file: LogFile = { key: '2049:77', idPrefix: 'q7w8e9', path: '/var/log/pods/ns_p_u/c/0.log', matchedPath: '/var/log/containers/p_ns_c-1.log', source: 'containers', meta: {} };

function records(n: number, from = 0, time = '2024-03-05T10:11:12.5Z'): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = from; i < from + n; i++) {
    const message = `line ${i}`;
    out.push({ file, offset: i * 100, resume: i * 100 + 100, time, stream: 'stdout', message, truncated: false, error: undefined });
  }
  return out;
}

const encodeDocument = (r: LogRecord) => JSON.stringify({ '@timestamp': r.time, message: r.message, stream: r.stream });
const idOf = (r: LogRecord) => `${file.idPrefix}-${r.offset.toString(36)}`;

/** The agent's defaults for this URL (as loadConfig makes them), with short timeouts for tests. */
function baseConfig(url: string): ElasticsearchConfig {
  const defaults = loadConfig([], { ELASTICSEARCH_URL: url }).elasticsearch;
  assert.ok(defaults !== undefined);
  return { ...defaults, requestTimeoutMs: 2000, retryMaxBackoffMs: 40, deadLetterMaxBytes: 1024 * 1024 };
}

async function harness(fakeOptions: FakeElasticsearchOptions, configure: (c: ElasticsearchConfig) => Partial<ElasticsearchConfig> = () => ({})): Promise<Harness> {
  const fake = await startFakeElasticsearch({ seed: 42, ...fakeOptions });
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-es-'));
  const logs: LogLine[] = [];
  const log: Log = {
    debug: (fields, message) => logs.push({ level: 'debug', fields, message }),
    info: (fields, message) => logs.push({ level: 'info', fields, message }),
    warn: (fields, message) => logs.push({ level: 'warn', fields, message }),
    error: (fields, message) => logs.push({ level: 'error', fields, message }),
  };
  const observer = new RecordingObserver();
  const base = baseConfig(fake.url);
  let seed = 9;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const sink = createElasticsearchSink({ ...base, ...configure(base) }, { log, observer, stateDir: dir, encodeDocument, random, schema: 'fluentd' });
  return { fake, sink, observer, logs, dir };
}

async function cleanup(h: Harness): Promise<void> {
  await h.sink.close();
  await h.fake.close();
  await rm(h.dir, { recursive: true, force: true });
}

function batches(sink: ElasticsearchSink, recs: readonly LogRecord[], size: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < recs.length; i += size) {
    const body = new BodyBuilder(1 << 20);
    for (const r of recs.slice(i, i + size)) body.write(sink.encode(r));
    const { body: bytes, ends } = body.take();
    out.push({ body: bytes, ends, bytes: bytes.length });
  }
  return out;
}

/** Sends the batches concurrently, as the pipeline does; fails the test past the deadline. */
async function sendAll(sink: ElasticsearchSink, bs: readonly Batch[], deadlineMs = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`sends not done within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    await Promise.race([Promise.all(bs.map((b) => sink.send(b))), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor(what: string, condition: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every record once, under its deterministic id, in the day's index, with its document. */
function assertExactlyOnce(fake: FakeElasticsearch, recs: readonly LogRecord[], index = 'logstash-2024.03.05'): void {
  const docs = fake.docs();
  assert.equal(docs.length, recs.length);
  const byId = new Map(docs.map((d) => [d.id, d]));
  for (const r of recs) {
    const d = byId.get(idOf(r));
    assert.ok(d !== undefined, `${idOf(r)} missing`);
    assert.equal(d.index, index);
    assert.deepEqual(d.doc, JSON.parse(encodeDocument(r)));
  }
}

test('normal run: detection logged, every record stored once under its id, delivered counted with bytes', async () => {
  const h = await harness({});
  try {
    await h.sink.start();
    assert.equal(h.sink.ready(), true);
    assert.deepEqual(h.sink.server(), { flavour: 'elasticsearch', version: '8.15.3', major: 8 });
    const detected = h.logs.find((l) => l.message === 'Elasticsearch output: server detected');
    assert.deepEqual(detected?.fields, { host: h.fake.url, flavour: 'elasticsearch', version: '8.15.3', hosts: 1, auth: 'none' });
    const recs = records(1000);
    const bs = batches(h.sink, recs, 100);
    await sendAll(h.sink, bs);
    assertExactlyOnce(h.fake, recs);
    assert.equal(h.observer.delivered, 1000);
    assert.equal(h.observer.deliveredBytes, bs.reduce((n, b) => n + b.bytes, 0));
    assert.deepEqual([...h.observer.outcomes], [['2xx', 10]]);
    const bulk = h.fake.requests().filter((r) => r.path === '/_bulk');
    assert.equal(bulk.length, 10);
    assert.equal(bulk[0]?.headers['content-type'], 'application/x-ndjson');
    assert.equal(h.fake.stats().items, 1000);
  } finally {
    await cleanup(h);
  }
});

test('20% of items answered 429: only those are sent again, and every record is stored once', async () => {
  const h = await harness({ itemRejectRate: 0.2 });
  try {
    await h.sink.start();
    const recs = records(1000);
    await sendAll(h.sink, batches(h.sink, recs, 100));
    assertExactlyOnce(h.fake, recs);
    const stats = h.fake.stats();
    const rejected = stats.itemStatuses[429] ?? 0;
    assert.ok(rejected > 150, `about 20% rejected, got ${rejected}`);
    // Items seen = each record once when stored + once per rejection: nothing else was re-sent.
    assert.equal(stats.items, 1000 + rejected);
    assert.equal(h.observer.retries.get('too_many_requests'), rejected);
    // One request per answer that had 429 items: each such answer sends one smaller request again.
    const partial = h.fake.stats().bulkRequests - 10;
    assert.equal(h.observer.retriedRequests.get('too_many_requests'), partial);
    assert.equal(h.observer.delivered, 1000);
  } finally {
    await cleanup(h);
  }
});

test('10% of requests answered 503: the batches are sent again whole, every record stored once', async () => {
  const h = await harness({ requestFailRate: 0.1 });
  try {
    await h.sink.start();
    const recs = records(2000);
    await sendAll(h.sink, batches(h.sink, recs, 50));
    assertExactlyOnce(h.fake, recs);
    const failed = h.fake.stats().requestStatuses[503] ?? 0;
    assert.ok(failed >= 1, 'some requests failed');
    assert.equal(h.observer.outcomes.get('503'), failed);
    assert.equal(h.observer.retries.get('server_error'), failed * 50);
    assert.equal(h.observer.retriedRequests.get('server_error'), failed, 'a retried request is counted once, not once per record');
    assert.equal(h.observer.delivered, 2000);
  } finally {
    await cleanup(h);
  }
});

test('a 503 with Retry-After: the server\'s wait is the shortest wait, even with a small backoff cap', async () => {
  const h = await harness({ requestFailRate: 1, retryAfterSeconds: 1 });
  try {
    await h.sink.start();
    const recs = records(10);
    const sending = sendAll(h.sink, batches(h.sink, recs, 10));
    await waitFor('a 503', () => (h.fake.stats().requestStatuses[503] ?? 0) >= 1);
    const failedAt = Date.now();
    h.fake.configure({ requestFailRate: 0 });
    await sending;
    assert.ok(Date.now() - failedAt >= 850, `waited ${Date.now() - failedAt} ms`);
    assert.equal(h.fake.stats().requestStatuses[503], 1);
    assertExactlyOnce(h.fake, recs);
  } finally {
    await cleanup(h);
  }
});

test('server down then up: not ready while down, logged once, nothing lost when it returns', async () => {
  const h = await harness({});
  try {
    await h.sink.start();
    await h.fake.down();
    const recs = records(500);
    const sending = sendAll(h.sink, batches(h.sink, recs, 50));
    await waitFor('the sink to notice', () => !h.sink.ready());
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(h.fake.count(), 0);
    await h.fake.up();
    await sending;
    assertExactlyOnce(h.fake, recs);
    assert.equal(h.sink.ready(), true);
    const down = h.logs.filter((l) => l.message.startsWith('Elasticsearch output: cannot reach the server'));
    assert.equal(down.length, 1);
    assert.equal((down[0]?.fields as { host: string }).host, h.fake.url);
    assert.ok(h.logs.some((l) => l.level === 'info' && l.message === 'Elasticsearch output: the server answers normally again'));
    assert.ok((h.observer.retries.get('connection') ?? 0) > 0);
    // Connection failures with no server answering: nothing is split (that is for a body the server refuses).
    assert.equal(h.logs.filter((l) => l.message.includes('split in halves')).length, 0);
  } finally {
    await cleanup(h);
  }
});

test('413 splits the batch in halves until the parts fit; a single record too large is a dead letter', async () => {
  const h = await harness({ maxBodyBytes: 3000 });
  try {
    await h.sink.start();
    const recs = records(200);
    await sendAll(h.sink, batches(h.sink, recs, 200));
    assertExactlyOnce(h.fake, recs);
    assert.ok((h.fake.stats().requestStatuses[413] ?? 0) >= 3);
    assert.equal(h.observer.dead.size, 0);

    const huge: LogRecord = { ...(records(1, 999)[0] as LogRecord), message: 'x'.repeat(5000) };
    await sendAll(h.sink, batches(h.sink, [huge, ...records(2, 1000)], 10));
    assert.equal(h.fake.count(), 202);
    assert.deepEqual([...h.observer.dead], [['too_large', 1]]);
    const letters = (await readFile(join(h.dir, 'dead-letters.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(letters.length, 1);
    assert.deepEqual({ ...letters[0], time: undefined }, {
      time: undefined,
      status: 413,
      error: { type: 'request_entity_too_large', reason: 'the request is larger than http.max_content_length' },
      index: 'logstash-2024.03.05',
      document: JSON.parse(encodeDocument(huge)),
    });
  } finally {
    await cleanup(h);
  }
});

test('mapping rejection: the record is in the dead-letter file with the reason, every other record is indexed', async () => {
  const h = await harness({ reject: (doc) => /^line (7|77)$/.test((doc as { message: string }).message) });
  try {
    await h.sink.start();
    const before = Date.now();
    const recs = records(100);
    await sendAll(h.sink, batches(h.sink, recs, 25));
    const kept = recs.filter((r) => r.message !== 'line 7' && r.message !== 'line 77');
    assertExactlyOnce(h.fake, kept);
    const lines = (await readFile(join(h.dir, 'dead-letters.ndjson'), 'utf8')).split('\n');
    assert.equal(lines.pop(), '');
    const letters = lines.map((l) => JSON.parse(l) as { time: string });
    assert.equal(letters.length, 2);
    for (const [i, n] of [7, 77].entries()) {
      const letter = letters[i] as { time: string };
      const t = Date.parse(letter.time);
      assert.ok(t >= before - 1 && t <= Date.now(), letter.time);
      assert.equal(lines[i], JSON.stringify({
        time: letter.time,
        status: 400,
        error: {
          type: 'document_parsing_exception',
          reason: `[1:42] failed to parse field [kubernetes.labels.app] of type [text] in document with id '${file.idPrefix}-${(n * 100).toString(36)}'. Preview of field's value: '{name=x}'`,
        },
        index: 'logstash-2024.03.05',
        document: { '@timestamp': '2024-03-05T10:11:12.5Z', message: `line ${n}`, stream: 'stdout' },
      }));
    }
    assert.deepEqual([...h.observer.dead], [['mapping', 2]]);
    assert.equal(h.observer.delivered, 98);
    // The self-log names the reason type, never the document (the server's reason may quote it).
    const warned = h.logs.filter((l) => l.level === 'warn');
    assert.equal(warned.length, 2);
    assert.ok(!JSON.stringify(warned).includes('line 7'));
  } finally {
    await cleanup(h);
  }
});

test('index_not_found: dead letters, counted, and one loud error naming the index', async () => {
  const h = await harness({ autoCreateIndex: false });
  try {
    await h.sink.start();
    await sendAll(h.sink, batches(h.sink, records(30), 10));
    assert.equal(h.fake.count(), 0);
    assert.deepEqual([...h.observer.dead], [['index_not_found', 30]]);
    const lines = (await readFile(join(h.dir, 'dead-letters.ndjson'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 30);
    assert.deepEqual(JSON.parse(lines[0] as string).error, { type: 'index_not_found_exception', reason: 'no such index [logstash-2024.03.05] and [action.auto_create_index] is [false]' });
    const loud = h.logs.filter((l) => l.level === 'error');
    assert.equal(loud.length, 1);
    assert.deepEqual(loud[0]?.fields, { index: 'logstash-2024.03.05' });
  } finally {
    await cleanup(h);
  }
});

test('the dead-letter file is bounded: past its size rejected records are only counted', async () => {
  const h = await harness({ reject: () => true }, () => ({ deadLetterMaxBytes: 700 }));
  try {
    await h.sink.start();
    await sendAll(h.sink, batches(h.sink, records(10), 10));
    const text = await readFile(join(h.dir, 'dead-letters.ndjson'), 'utf8');
    const sizes = text.split('\n').slice(0, -1).map((l) => Buffer.byteLength(l) + 1);
    const written = sizes.reduce((a, b) => a + b, 0);
    // As many whole lines as fit, and not one more.
    assert.ok(sizes.length >= 1);
    assert.ok(written <= 700 && written + Math.min(...sizes) > 700, `${sizes.length} lines, ${written} bytes`);
    assert.deepEqual([...h.observer.dead], [['mapping', 10]]);
    assert.equal(h.fake.count(), 0);
  } finally {
    await cleanup(h);
  }
});

test('sending the same records again: 409s count as delivered and the index is unchanged', async () => {
  const h = await harness({});
  try {
    await h.sink.start();
    const recs = records(300);
    await sendAll(h.sink, batches(h.sink, recs, 100));
    const first = h.fake.docs();
    await sendAll(h.sink, batches(h.sink, recs, 100));
    assert.deepEqual(h.fake.docs(), first);
    assertExactlyOnce(h.fake, recs);
    assert.equal(h.fake.stats().itemStatuses[409], 300);
    assert.equal(h.observer.delivered, 600);
    assert.equal(h.observer.dead.size, 0);
    assert.equal(h.observer.retries.size, 0);
  } finally {
    await cleanup(h);
  }
});

test('wrong password: not ready, one clear error, no crash, the send waits until close, no secret in the log', async () => {
  const password = 'wr0ng-Pa55word-zz';
  const h = await harness({ auth: { username: 'elastic', password: 'right' } }, () => ({ username: 'elastic', password }));
  try {
    await h.sink.start();
    assert.equal(h.sink.ready(), false);
    const sending = h.sink.send(batches(h.sink, records(5), 5)[0] as Batch);
    let settled = false;
    sending.then(() => (settled = true), () => (settled = true));
    await waitFor('a refused bulk', () => (h.fake.stats().requestStatuses[401] ?? 0) >= 3);
    assert.equal(settled, false);
    assert.equal(h.sink.ready(), false);
    const errors = h.logs.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /refused the credentials \(401\); check elasticsearch_username/);
    assert.deepEqual(errors[0]?.fields, { host: h.fake.url, status: 401, type: 'security_exception', reason: 'unable to authenticate user [elastic] for REST request [/]', auth: 'basic (user elastic)', retryMs: 40 });
    await h.sink.close();
    await assert.rejects(sending, ShutdownError);
    assert.equal(h.fake.count(), 0);
    const everything = JSON.stringify(h.logs);
    assert.ok(!everything.includes(password));
    assert.ok(!everything.includes(Buffer.from(`elastic:${password}`).toString('base64')));
    assert.ok((h.observer.problems.get('unauthorized') ?? 0) >= 1);
  } finally {
    await cleanup(h);
  }
});

test('credentials in the URL become basic auth and never reach the log', async () => {
  const h = await harness({ auth: { username: 'elastic', password: 'url-s3cret' } }, (c) => {
    const u = new URL(c.urls[0] as URL);
    u.username = 'elastic';
    u.password = 'url-s3cret';
    return { urls: [u] };
  });
  try {
    await h.sink.start();
    assert.equal(h.sink.ready(), true);
    const recs = records(20);
    await sendAll(h.sink, batches(h.sink, recs, 10));
    assertExactlyOnce(h.fake, recs);
    assert.ok(!JSON.stringify(h.logs).includes('url-s3cret'));
    assert.equal(h.fake.stats().requestStatuses[401], undefined);
  } finally {
    await cleanup(h);
  }
});

test('API key auth', async () => {
  const apiKey = Buffer.from('key-id:key-secret').toString('base64');
  const h = await harness({ auth: { apiKey } }, () => ({ apiKey }));
  try {
    await h.sink.start();
    await sendAll(h.sink, batches(h.sink, records(10), 10));
    assert.equal(h.fake.count(), 10);
    assert.equal(h.fake.requests().at(-1)?.headers.authorization, `ApiKey ${apiKey}`);
    assert.ok(!JSON.stringify(h.logs).includes(apiKey));
  } finally {
    await cleanup(h);
  }
});

test('gzip: every bulk body is compressed and every record stored once', async () => {
  const h = await harness({}, () => ({ gzip: true }));
  try {
    await h.sink.start();
    const recs = records(400);
    await sendAll(h.sink, batches(h.sink, recs, 100));
    assertExactlyOnce(h.fake, recs);
    const stats = h.fake.stats();
    assert.equal(stats.gzipRequests, 4);
    assert.equal(h.fake.requests().filter((r) => r.path === '/_bulk').every((r) => r.headers['content-encoding'] === 'gzip'), true);
    assert.ok(stats.bodyBytes < h.observer.deliveredBytes / 3, `compressed ${stats.bodyBytes} of ${h.observer.deliveredBytes}`);
  } finally {
    await cleanup(h);
  }
});

test('OpenSearch 2: detected as such, records stored, the Elasticsearch-only template is skipped', async () => {
  const h = await harness({ flavour: 'opensearch-2' }, () => ({ installTemplate: true }));
  try {
    await h.sink.start();
    assert.deepEqual(h.sink.server(), { flavour: 'opensearch', version: '2.17.1', major: 2 });
    const recs = records(100);
    await sendAll(h.sink, batches(h.sink, recs, 50));
    assertExactlyOnce(h.fake, recs);
    assert.equal(h.fake.templates().size, 0);
    assert.ok(h.logs.some((l) => l.level === 'warn' && l.message.includes('install_template is only done on Elasticsearch')));
  } finally {
    await cleanup(h);
  }
});

test('the index template is installed with the official client on Elasticsearch 7.17, 8 and 9 alike', async () => {
  for (const flavour of ['elasticsearch-7.17', 'elasticsearch-8', 'elasticsearch-9'] as const) {
    const h = await harness({ flavour, auth: { username: 'u', password: 'p' } }, () => ({ installTemplate: true, username: 'u', password: 'p' }));
    try {
      await h.sink.start();
      const template = h.fake.templates().get('nodetail-logstash') as { index_patterns: string[]; priority: number; template: { mappings: { properties: object } } } | undefined;
      assert.ok(template !== undefined, `${flavour}: ${JSON.stringify(h.logs)}`);
      assert.deepEqual(template.index_patterns, ['logstash-*']);
      assert.equal(template.priority, 200);
      assert.deepEqual(template.template.mappings.properties, DOCUMENT_MAPPINGS.fluentd);
      const put = h.fake.requests().find((r) => r.method === 'PUT');
      assert.equal(put?.headers.accept, 'application/json');
      await sendAll(h.sink, batches(h.sink, records(10), 10));
      assert.equal(h.fake.count(), 10);
    } finally {
      await cleanup(h);
    }
  }
});

test('data_stream mode: create into logs-<dataset>-<namespace>', async () => {
  const h = await harness({ flavour: 'elasticsearch-9' }, () => ({ indexMode: 'data_stream', deterministicIds: false }));
  try {
    await h.sink.start();
    const recs = records(30);
    const bs = batches(h.sink, recs, 10);
    assert.equal(bs[0]?.body.toString('utf8', 0, bs[0].ends[0]).split('\n')[0], '{"create":{"_index":"logs-kubernetes-default"}}');
    await sendAll(h.sink, bs);
    assert.equal(h.fake.count('logs-kubernetes-default'), 30);
    assert.equal(h.observer.delivered, 30);
  } finally {
    await cleanup(h);
  }
});

test('ids off: create actions without _id, Elasticsearch makes the ids, also where the index name is a data stream', async () => {
  // logs-app-2024.03.05 matches the built-in logs-*-* data stream template (Elasticsearch 7.9+),
  // which takes only create: an index action would be refused for every record.
  for (const [flavour, prefix] of [['elasticsearch-8', 'logstash'], ['elasticsearch-8', 'logs-app'], ['elasticsearch-7.17', 'logs-app'], ['opensearch-2', 'logstash']] as const) {
    const h = await harness({ flavour }, () => ({ deterministicIds: false, logstashPrefix: prefix }));
    try {
      await h.sink.start();
      const bs = batches(h.sink, records(50), 25);
      assert.equal(bs[0]?.body.toString('utf8', 0, bs[0].ends[0]).split('\n')[0], `{"create":{"_index":"${prefix}-2024.03.05"}}`);
      await sendAll(h.sink, bs);
      const docs = h.fake.docs();
      assert.equal(docs.length, 50, `${flavour} ${prefix}`);
      assert.equal(h.observer.dead.size, 0);
      assert.ok(docs.every((d) => /^[A-Za-z0-9_-]{20}$/.test(d.id)));
    } finally {
      await cleanup(h);
    }
  }
});

test('a cluster block is retried until it lifts, never dropped', async () => {
  const h = await harness({ clusterBlock: 'item' });
  try {
    await h.sink.start();
    const recs = records(40);
    const sending = sendAll(h.sink, batches(h.sink, recs, 20));
    await waitFor('blocked answers', () => (h.fake.stats().itemStatuses[429] ?? 0) >= 80);
    h.fake.configure({ clusterBlock: 'request' });
    await waitFor('blocked requests', () => (h.fake.stats().requestStatuses[429] ?? 0) >= 2);
    h.fake.configure({ clusterBlock: undefined });
    await sending;
    assertExactlyOnce(h.fake, recs);
    assert.equal(h.observer.dead.size, 0);
    assert.equal(h.logs.filter((l) => l.message.includes('the cluster blocks writes')).length, 1);
    assert.ok(h.logs.some((l) => l.message === 'Elasticsearch output: the cluster accepts writes again'));
  } finally {
    await cleanup(h);
  }
});

test('unreachable at start: start() resolves, not ready, and the sink finds the server when it comes up', async () => {
  const h = await harness({});
  try {
    await h.fake.down();
    await h.sink.start();
    assert.equal(h.sink.ready(), false);
    assert.equal(h.logs.filter((l) => l.level === 'error' && l.message.startsWith('Elasticsearch output: cannot reach the server')).length, 1);
    await h.fake.up();
    await waitFor('background detection', () => h.sink.server() !== undefined);
    assert.equal(h.sink.ready(), true);
  } finally {
    await cleanup(h);
  }
});

test('several hosts: a host that is down is set aside and the others take everything', async () => {
  const h = await harness({});
  const other = await startFakeElasticsearch({ seed: 3 });
  const dead = await startFakeElasticsearch({});
  await dead.down();
  const h2 = { ...h };
  await h.sink.close();
  const sink = createElasticsearchSink({ ...baseConfig(h.fake.url), urls: [new URL(dead.url), new URL(h.fake.url), new URL(other.url)] }, { log: { debug() {}, info() {}, warn() {}, error() {} }, observer: h.observer, stateDir: h.dir, encodeDocument, schema: 'fluentd' });
  h2.sink = sink;
  try {
    await sink.start();
    const recs = records(600);
    await sendAll(sink, batches(sink, recs, 20));
    assert.equal(h.fake.count() + other.count(), 600);
    assert.ok(h.fake.count() > 100 && other.count() > 100, `${h.fake.count()} / ${other.count()}`);
    const ids = new Set([...h.fake.docs(), ...other.docs()].map((d) => d.id));
    assert.equal(ids.size, 600);
    // The dead host was tried, then set aside: far fewer attempts than its share of 30 requests.
    assert.ok((h.observer.retries.get('connection') ?? 0) <= 3 * 20, String(h.observer.retries.get('connection')));
  } finally {
    await cleanup(h2);
    await other.close();
    await dead.close();
  }
});

test('close() while sends wait: they reject with ShutdownError and nothing is left running', async () => {
  const h = await harness({ requestFailRate: 1 }, () => ({ retryMaxBackoffMs: 5000 }));
  try {
    await h.sink.start();
    // Outcomes are caught at once: two of the four sends wait for a slot and reject as soon as close() runs.
    const outcomes = batches(h.sink, records(20), 5).map((b) => h.sink.send(b).then(() => 'delivered', (err: unknown) => err));
    await waitFor('failed requests', () => (h.fake.stats().requestStatuses[503] ?? 0) >= 2);
    await h.sink.close();
    for (const o of await Promise.all(outcomes)) assert.ok(o instanceof ShutdownError, String(o));
    assert.equal(h.fake.count(), 0);
    await assert.rejects(h.sink.send({ body: Buffer.alloc(0), ends: new Uint32Array(0), bytes: 0 }), ShutdownError);
    assert.equal(h.sink.ready(), false);
  } finally {
    await cleanup(h);
  }
});

test('a request that times out is sent again; what the server stored meanwhile answers 409 and counts as delivered', async () => {
  const h = await harness({ delayMs: 400 }, () => ({ requestTimeoutMs: 150 }));
  try {
    await h.sink.start(); // GET / is slow too: detection fails, the sink keeps trying in the background
    const recs = records(40);
    const sending = sendAll(h.sink, batches(h.sink, recs, 20));
    await waitFor('timeouts', () => (h.observer.retries.get('timeout') ?? 0) >= 40);
    h.fake.configure({ delayMs: 0 });
    await sending;
    assertExactlyOnce(h.fake, recs);
    assert.equal(h.observer.delivered, 40);
    assert.ok((h.fake.stats().itemStatuses[409] ?? 0) >= 20);
    assert.ok((h.observer.outcomes.get('timeout') ?? 0) >= 2);
  } finally {
    await cleanup(h);
  }
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with the openssl CLI. */
function makeCertificates(dir: string): void {
  const run = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=nodetail test CA');
  for (const name of ['server', 'client']) {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  }
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.cnf');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2');
}

test('TLS: the CA file verifies the server, the client certificate is presented; no CA means not ready; tls_verify false skips the check', { skip: !hasOpenssl && 'no openssl CLI to make certificates' }, async () => {
  const certs = await mkdtemp(join(tmpdir(), 'nodetail-tls-'));
  try {
    await writeFile(join(certs, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    makeCertificates(certs);
    const pem = async (f: string) => readFile(join(certs, f), 'utf8');
    const tls = { key: await pem('server.key'), cert: await pem('server.crt'), ca: await pem('ca.crt') };
    const client = { certFile: join(certs, 'client.crt'), keyFile: join(certs, 'client.key') };

    const verified = await harness({ tls }, () => ({ caFile: join(certs, 'ca.crt'), ...client }));
    try {
      assert.match(verified.fake.url, /^https:/);
      await verified.sink.start();
      assert.equal(verified.sink.ready(), true);
      await sendAll(verified.sink, batches(verified.sink, records(10), 10));
      assert.equal(verified.fake.count(), 10);
    } finally {
      await cleanup(verified);
    }

    const unknownCa = await harness({ tls }, () => client);
    try {
      await unknownCa.sink.start();
      assert.equal(unknownCa.sink.ready(), false);
      const error = unknownCa.logs.find((l) => l.level === 'error');
      assert.match(String((error?.fields as { error?: string }).error), /certificate|self.signed|issuer/i);
    } finally {
      await cleanup(unknownCa);
    }

    const unverified = await harness({ tls }, () => ({ tlsVerify: false, ...client }));
    try {
      await unverified.sink.start();
      assert.equal(unverified.sink.ready(), true);
    } finally {
      await cleanup(unverified);
    }
  } finally {
    await rm(certs, { recursive: true, force: true });
  }
});

test('a write block an operator set (403): not ready, /readyz and the self-log name the index and the fix; records wait and go once the block is lifted', async () => {
  const h = await harness({ indexBlocks: { 'logstash-2024.03.05': 'write' } });
  try {
    await h.sink.start();
    const recs = records(40);
    const sending = sendAll(h.sink, batches(h.sink, recs, 20));
    await waitFor('blocked answers', () => (h.fake.stats().itemStatuses[403] ?? 0) >= 80);
    assert.equal(h.sink.ready(), false);
    assert.equal(h.sink.problem?.(), 'output elasticsearch: index logstash-2024.03.05 refuses writes (index.blocks.write); an operator must remove it (PUT logstash-2024.03.05/_settings {"index.blocks.write": null}), or roll its data stream over or change the ILM phase that set it');
    assert.ok((h.observer.problems.get('index_blocked') ?? 0) >= 2);
    const errors = h.logs.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal((errors[0]?.fields as { index?: string }).index, 'logstash-2024.03.05');
    assert.match(errors[0]?.message ?? '', /has a write block \(index\.blocks\.write\); records wait \(nothing is dropped\).*an operator must remove it/);
    assert.equal(h.fake.count(), 0);
    h.fake.configure({ indexBlocks: {} });
    await sending;
    assertExactlyOnce(h.fake, recs);
    assert.equal(h.observer.dead.size, 0);
    assert.equal(h.sink.ready(), true);
    assert.equal(h.sink.problem?.(), undefined);
    assert.equal(h.logs.filter((l) => l.message === 'Elasticsearch output: the write block is gone; records flow again').length, 1);
  } finally {
    await cleanup(h);
  }
});

test('data_stream mode: exactly-once holds within one backing index; a replay across a rollover indexes again, as the start-up warning says', async () => {
  const h = await harness({ flavour: 'elasticsearch-8' }, () => ({ indexMode: 'data_stream' }));
  try {
    await h.sink.start();
    assert.equal(h.logs.filter((l) => l.level === 'warn' && l.message.includes('a record is indexed once per backing index')).length, 1);
    const recs = records(10);
    await sendAll(h.sink, batches(h.sink, recs, 10));
    // A replay within the write index: every item 409, nothing added.
    await sendAll(h.sink, batches(h.sink, recs, 10));
    assert.deepEqual(h.fake.stats().itemStatuses, { 201: 10, 409: 10 });
    h.fake.rollover('logs-kubernetes-default');
    await sendAll(h.sink, batches(h.sink, recs, 10));
    assert.equal(h.fake.count('logs-kubernetes-default'), 20, 'the limit the README states: once per backing index');
  } finally {
    await cleanup(h);
  }
});

test('an early 413 that reaches the client as a connection reset: the batch is split once the server answers other requests, so it cannot block for ever', async () => {
  // A 2 MB body against a 64 KiB limit: the server answers from Content-Length and closes the
  // socket without reading, so the client, still writing, sees its connection reset.
  const h = await harness({ maxBodyBytes: 64 * 1024, tooLargeAs: 'reset' }, () => ({ retryMaxBackoffMs: 100 }));
  try {
    await h.sink.start();
    const recs = records(1000).map((r) => ({ ...r, message: `${r.message} ${'y'.repeat(2000)}` }));
    await sendAll(h.sink, batches(h.sink, recs, 1000), 30_000);
    assertExactlyOnce(h.fake, recs);
    assert.equal(h.observer.dead.size, 0);
    assert.ok((h.observer.outcomes.get('error') ?? 0) >= 3, JSON.stringify([...h.observer.outcomes]));
    assert.ok(h.logs.some((l) => l.level === 'warn' && l.message.includes('split in halves')));
  } finally {
    await cleanup(h);
  }
});

test('failure store (Elasticsearch 9): records the server put there are counted apart with a dead-letter note, not as delivered', async () => {
  const h = await harness({ flavour: 'elasticsearch-9', failureStore: true }, () => ({ indexMode: 'data_stream' }));
  try {
    // A data stream whose mapping makes `message` a number: the text messages go to its failure store.
    await fetch(`${h.fake.url}/_index_template/numbers`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ index_patterns: ['logs-kubernetes-*'], priority: 300, data_stream: {}, template: { mappings: { properties: { message: { type: 'long' } } } } }),
    });
    await h.sink.start();
    const recs = records(20).map((r, i) => ({ ...r, message: i % 4 === 0 ? `text ${i}` : String(i) }));
    await sendAll(h.sink, batches(h.sink, recs, 10));
    assert.equal(h.fake.count('logs-kubernetes-default'), 15);
    assert.equal(h.fake.failureStoreDocs().length, 5);
    assert.equal(h.observer.delivered, 15);
    assert.deepEqual([...h.observer.dead], [['failure_store', 5]]);
    const letters = (await readFile(join(h.dir, 'dead-letters.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(letters.map((l) => [l.status, l.error.type, l.document.message]), [0, 4, 8, 12, 16].map((i) => [201, 'failure_store', `text ${i}`]));
    assert.match(letters[0].error.reason, /stored in its failure store index \[\.fs-logs-kubernetes-default-/);
    assert.ok(h.logs.some((l) => l.level === 'warn' && l.message.includes("stored in the data stream's failure store")));
  } finally {
    await cleanup(h);
  }
});

test('failure store: the marker is found when the answer arrives in chunks that cut it in two', async () => {
  // An Elasticsearch 9 whose `_bulk` answer comes in two writes, the cut inside "failure_store":"used".
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('x-elastic-product', 'Elasticsearch');
      res.setHeader('content-type', 'application/json');
      if (req.url === '/') {
        res.end(JSON.stringify({ version: { number: '9.1.5', build_flavor: 'default' }, tagline: 'You Know, for Search' }));
        return;
      }
      const ok = { create: { _index: '.ds-logs-kubernetes-default-2026.01.01-000001', _id: 'x', status: 201 } };
      const stored = { create: { _index: '.fs-logs-kubernetes-default-2026.01.01-000001', _id: 'y', status: 201, failure_store: 'used' } };
      const body = JSON.stringify({ errors: false, took: 1, items: [...Array(300).fill(ok), stored, ok] });
      const cut = body.indexOf('"failure_store"') + 9;
      res.write(body.slice(0, cut));
      setTimeout(() => res.end(body.slice(cut)), 50);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-es-'));
  const observer = new RecordingObserver();
  const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };
  const sink = createElasticsearchSink({ ...baseConfig(url), indexMode: 'data_stream' }, { log: quiet, observer, stateDir: dir, encodeDocument, schema: 'fluentd' });
  try {
    await sink.start();
    await sendAll(sink, batches(sink, records(302), 302));
    assert.equal(observer.delivered, 301);
    assert.deepEqual([...observer.dead], [['failure_store', 1]]);
  } finally {
    await sink.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
