import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startBulkEndpoint } from './bulk-endpoint.ts';

test('answers every item 201, counts distinct seq tokens and measures write-to-arrival delay', async (t) => {
  const endpoint = await startBulkEndpoint();
  t.after(() => endpoint.close());
  endpoint.reset({ seqBase: 100, seqCount: 10, latency: true });
  const written = Date.now() - 50;
  const body = [
    '{"create":{"_index":"logstash-2026.11.22","_id":"a1"}}',
    JSON.stringify({ message: `x seq=100 wt=${written}` }),
    '{"index":{}}',
    JSON.stringify({ log: 'seq=101 plain' }),
    '{"create":{"_index":"i","_id":"a\\"2"}}',
    JSON.stringify({ message: `again seq=100 wt=${written}` }),
    '{"create":{"_index":"i"}}',
    JSON.stringify({ message: 'a continuation part without a token' }),
    '{"create":{"_index":"i","_id":"a4"}}',
    JSON.stringify({ message: 'seq=5000 from another phase' }),
    '',
  ].join('\n');
  const response = await fetch(`http://127.0.0.1:${endpoint.port}/fallback/_bulk`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body,
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-elastic-product'), 'Elasticsearch');
  const answer = (await response.json()) as { errors: boolean; items: Array<Record<string, { _index: string; _id: string; status: number; result: string }>> };
  assert.equal(answer.errors, false);
  assert.deepEqual(
    answer.items.map((item) => Object.entries(item).map(([action, r]) => [action, r._index, r._id, r.status, r.result])[0]),
    [
      ['create', 'logstash-2026.11.22', 'a1', 201, 'created'],
      ['index', 'fallback', 'bench1', 201, 'created'],
      ['create', 'i', 'a"2', 201, 'created'],
      ['create', 'i', 'bench2', 201, 'created'],
      ['create', 'i', 'a4', 201, 'created'],
    ],
  );
  assert.equal(endpoint.stats().latency, undefined, 'percentiles only when asked');
  const stats = endpoint.stats(true);
  assert.deepEqual(
    { requests: stats.requests, bodyBytes: stats.bodyBytes, items: stats.items, distinct: stats.distinct, duplicates: stats.duplicates, foreign: stats.foreign, withoutSeq: stats.withoutSeq },
    { requests: 1, bodyBytes: Buffer.byteLength(body), items: 5, distinct: 2, duplicates: 1, foreign: 1, withoutSeq: 1 },
  );
  assert.equal(stats.lastItemAt, stats.firstItemAt);
  assert.equal(stats.lastDistinctAt, stats.lastItemAt);
  assert.equal(stats.latency?.count, 2);
  assert.equal(stats.latency.p50, stats.lastItemAt - written);
  assert.ok(stats.latency.p50 >= 50);

  // A reset starts a new phase: nothing counted, no delays kept unless asked.
  endpoint.reset({ seqBase: 0, seqCount: 5, latency: false });
  const zipped = await fetch(`http://127.0.0.1:${endpoint.port}/_bulk`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    body: gzipSync('{"create":{"_index":"z","_id":"q"}}\n{"message":"seq=4"}\n'),
  });
  assert.deepEqual(await zipped.json(), { took: 1, errors: false, items: [{ create: { _index: 'z', _id: 'q', _version: 1, result: 'created', status: 201 } }] });
  const after = endpoint.stats(true);
  assert.equal(after.distinct, 1);
  assert.equal(after.items, 1);
  assert.equal(after.latency, undefined);
});

test('answers GET / like Elasticsearch 8 and accepts set-up requests', async (t) => {
  const endpoint = await startBulkEndpoint();
  t.after(() => endpoint.close());
  const root = await fetch(`http://127.0.0.1:${endpoint.port}/`);
  assert.equal(root.headers.get('x-elastic-product'), 'Elasticsearch');
  const info = (await root.json()) as { version: { number: string; build_flavor: string } };
  assert.equal(info.version.number, '8.15.0');
  assert.equal(info.version.build_flavor, 'default');
  const template = await fetch(`http://127.0.0.1:${endpoint.port}/_index_template/nodetail`, { method: 'PUT', body: '{}' });
  assert.equal(template.status, 200);
  assert.deepEqual(await template.json(), { acknowledged: true });
});
