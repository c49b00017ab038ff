/**
 * The fake Elasticsearch answers with the shapes of Elasticsearch's `_bulk` API (the README's
 * "Elasticsearch output" table lists them); these tests pin them, so the sink's tests stand on a faithful server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FLAVOURS } from '../support/fake-elasticsearch.ts';
import { call, ndjson, withFake } from '../support/fake-elasticsearch-client.ts';

test('GET / answers per flavour: version, distribution, tagline and the x-elastic-product header', async () => {
  const expected = {
    'elasticsearch-7.17': { number: '7.17.24', product: 'Elasticsearch', distribution: undefined, tagline: 'You Know, for Search' },
    'elasticsearch-8': { number: '8.15.3', product: 'Elasticsearch', distribution: undefined, tagline: 'You Know, for Search' },
    'elasticsearch-9': { number: '9.1.5', product: 'Elasticsearch', distribution: undefined, tagline: 'You Know, for Search' },
    'opensearch-2': { number: '2.17.1', product: null, distribution: 'opensearch', tagline: 'The OpenSearch Project: https://opensearch.org/' },
  } as const;
  for (const flavour of FLAVOURS) {
    await withFake({ flavour }, async (fake) => {
      const a = await call(fake, 'GET', '/');
      const e = expected[flavour];
      assert.equal(a.status, 200);
      assert.equal(a.json.version.number, e.number);
      assert.equal(a.json.version.distribution, e.distribution);
      assert.equal(a.json.tagline, e.tagline);
      assert.equal(a.headers.get('x-elastic-product'), e.product);
      // Every answer carries the header, errors too.
      assert.equal((await call(fake, 'GET', '/nope/_search')).headers.get('x-elastic-product'), e.product);
    });
  }
});

test('_bulk create answers in request order with the recorded item shape, and a repeated _id is 409', async () => {
  await withFake({}, async (fake) => {
    const body = ndjson({ create: { _index: 'logs-a', _id: 'k1' } }, { '@timestamp': '2024-01-01T00:00:00Z', message: 'one' }, { create: { _index: 'logs-a', _id: 'k2' } }, { message: 'two' });
    const first = await call(fake, 'POST', '/_bulk', body);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-type'), 'application/json; charset=UTF-8');
    assert.equal(typeof first.json.took, 'number');
    assert.equal(first.json.errors, false);
    assert.deepEqual(first.json.items, [
      { create: { _index: 'logs-a', _id: 'k1', _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: 0, _primary_term: 1, status: 201 } },
      { create: { _index: 'logs-a', _id: 'k2', _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: 1, _primary_term: 1, status: 201 } },
    ]);
    const again = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'logs-a', _id: 'k2' } }, { message: 'two again' }, { create: { _index: 'logs-a', _id: 'k3' } }, { message: 'three' }));
    assert.equal(again.json.errors, true);
    assert.deepEqual(again.json.items[0], {
      create: { _index: 'logs-a', _id: 'k2', status: 409, error: { type: 'version_conflict_engine_exception', reason: '[k2]: version conflict, document already exists (current version [1])', index_uuid: 'aF0nZ3VvUQ2Ck1qK2HcR3g', shard: '0', index: 'logs-a' } },
    });
    assert.equal(again.json.items[1].create.status, 201);
    assert.equal(fake.count(), 3);
    assert.deepEqual(fake.docs('logs-a').map((d) => [d.id, d.doc]), [
      ['k1', { '@timestamp': '2024-01-01T00:00:00Z', message: 'one' }],
      ['k2', { message: 'two' }],
      ['k3', { message: 'three' }],
    ]);
    const stats = fake.stats();
    assert.equal(stats.bulkRequests, 2);
    assert.equal(stats.items, 4);
    assert.deepEqual(stats.itemStatuses, { 201: 3, 409: 1 });
  });
});

test('index without _id gets a generated id; index on an existing _id updates it (200, version 2); /<index>/_bulk sets the default index', async () => {
  await withFake({}, async (fake) => {
    const a = await call(fake, 'POST', '/dflt/_bulk', ndjson({ index: {} }, { n: 1 }, { index: { _id: 'x' } }, { n: 2 }, { index: { _id: 'x' } }, { n: 3 }));
    assert.equal(a.json.errors, false);
    const [gen, created, updated] = a.json.items.map((i: any) => i.index);
    assert.match(gen._id, /^[A-Za-z0-9_-]{20}$/);
    assert.equal(gen._index, 'dflt');
    assert.equal(created.status, 201);
    assert.deepEqual([updated.status, updated.result, updated._version], [200, 'updated', 2]);
    assert.equal(fake.count('dflt'), 2);
    assert.deepEqual(fake.docs('dflt').find((d) => d.id === 'x')?.doc, { n: 3 });
  });
});

test('_type is rejected with 400 by Elasticsearch 8, 9 and OpenSearch 2, accepted by 7.17', async () => {
  for (const flavour of FLAVOURS) {
    await withFake({ flavour }, async (fake) => {
      const a = await call(fake, 'POST', '/_bulk', ndjson({ index: { _index: 'a', _type: '_doc', _id: '1' } }, { m: 1 }));
      if (flavour === 'elasticsearch-7.17') {
        assert.equal(a.status, 200);
        assert.equal(a.json.items[0].index.status, 201);
      } else {
        assert.equal(a.status, 400);
        assert.deepEqual(a.json, {
          error: {
            root_cause: [{ type: 'illegal_argument_exception', reason: 'Action/metadata line [1] contains an unknown parameter [_type]' }],
            type: 'illegal_argument_exception',
            reason: 'Action/metadata line [1] contains an unknown parameter [_type]',
          },
          status: 400,
        });
        assert.equal(fake.count(), 0);
      }
    });
  }
});

test('malformed requests: no trailing newline, a bad action line, an empty body', async () => {
  await withFake({}, async (fake) => {
    const noNewline = await call(fake, 'POST', '/_bulk', '{"create":{"_index":"a"}}\n{}');
    assert.equal(noNewline.status, 400);
    assert.equal(noNewline.json.error.reason, 'The bulk request must be terminated by a newline [\\n]');
    const badAction = await call(fake, 'POST', '/_bulk', 'nope\n{}\n');
    assert.equal(badAction.status, 400);
    assert.equal(badAction.json.error.type, 'x_content_parse_exception');
    const empty = await call(fake, 'POST', '/_bulk', '');
    assert.equal(empty.status, 400);
    assert.equal(empty.json.error.type, 'action_request_validation_exception');
  });
});

test('gzip request bodies are accepted', async () => {
  await withFake({}, async (fake) => {
    const body = gzipSync(ndjson({ create: { _index: 'z', _id: '1' } }, { m: 'zipped' }));
    const a = await call(fake, 'POST', '/_bulk', body, { 'content-encoding': 'gzip' });
    assert.equal(a.status, 200);
    assert.equal(a.json.items[0].create.status, 201);
    assert.deepEqual(fake.docs('z')[0]?.doc, { m: 'zipped' });
    assert.equal(fake.stats().gzipRequests, 1);
  });
});

test('data streams take only create, need @timestamp, and answer with the backing index', async () => {
  await withFake({ flavour: 'elasticsearch-8' }, async (fake) => {
    const a = await call(fake, 'POST', '/_bulk', ndjson(
      { index: { _index: 'logs-k8s-default' } }, { '@timestamp': '2024-01-01T00:00:00Z' },
      { create: { _index: 'logs-k8s-default', _id: 'a' } }, { message: 'no time' },
      { create: { _index: 'logs-k8s-default', _id: 'b' } }, { '@timestamp': '2024-01-01T00:00:00Z' },
    ));
    const [index, noTime, ok] = a.json.items.map((i: any) => Object.values(i)[0]);
    assert.deepEqual([index.status, index.error.type, index.error.reason], [400, 'illegal_argument_exception', 'only write ops with an op_type of create are allowed in data streams']);
    assert.deepEqual([noTime.status, noTime.error.type], [400, 'document_parsing_exception']);
    assert.match(noTime.error.reason, /data stream timestamp field \[@timestamp\] is missing/);
    assert.deepEqual([ok.status, ok._index], [201, `.ds-logs-k8s-default-${new Date().toISOString().slice(0, 10).replaceAll('-', '.')}-000001`]);
    assert.equal(fake.count('logs-k8s-default'), 1);
  });
});

test('item 429s come from a seeded PRNG: the same seed rejects the same items', async () => {
  const rejected = async (seed: number): Promise<string[]> => {
    let ids: string[] = [];
    await withFake({ seed, itemRejectRate: 0.2 }, async (fake) => {
      const lines: object[] = [];
      for (let i = 0; i < 200; i++) lines.push({ create: { _index: 'r', _id: `id${i}` } }, { i });
      const a = await call(fake, 'POST', '/_bulk', ndjson(...lines));
      const failed = a.json.items.filter((i: any) => i.create.status === 429);
      assert.equal(failed[0].create.error.type, 'es_rejected_execution_exception');
      assert.match(failed[0].create.error.reason, /^rejected execution of .* on EsThreadPoolExecutor\[name = node\/write, queue capacity = 10000/);
      ids = failed.map((i: any) => i.create._id);
      assert.equal(fake.count(), 200 - ids.length);
    });
    return ids;
  };
  const a = await rejected(7);
  assert.deepEqual(await rejected(7), a);
  assert.notDeepEqual(await rejected(8), a);
  assert.ok(a.length > 20 && a.length < 60, `about 20% of 200 rejected, got ${a.length}`);
});

test('request faults: 503, 413 with an empty body above the size, cluster blocks, Retry-After, delays', async () => {
  await withFake({ requestFailRate: 1, retryAfterSeconds: 3 }, async (fake) => {
    const a = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'a', _id: '1' } }, {}));
    assert.equal(a.status, 503);
    assert.equal(a.json.error.type, 'unavailable_shards_exception');
    assert.equal(a.headers.get('retry-after'), '3');
    assert.equal(fake.count(), 0);

    fake.configure({ requestFailRate: 0, maxBodyBytes: 64, retryAfterSeconds: undefined });
    const big = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'a', _id: '1' } }, { m: 'x'.repeat(100) }));
    assert.deepEqual([big.status, big.text], [413, '']);

    fake.configure({ maxBodyBytes: 1e6, clusterBlock: 'request' });
    const blocked = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'a', _id: '1' } }, {}));
    assert.deepEqual([blocked.status, blocked.json.error.type], [429, 'cluster_block_exception']);
    fake.configure({ clusterBlock: 'item' });
    const itemBlocked = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'a', _id: '1' } }, {}));
    assert.deepEqual([itemBlocked.status, itemBlocked.json.items[0].create.status, itemBlocked.json.items[0].create.error.type], [200, 429, 'cluster_block_exception']);

    fake.configure({ clusterBlock: undefined, delayMs: 150 });
    const started = performance.now();
    assert.equal((await call(fake, 'GET', '/')).status, 200);
    assert.ok(performance.now() - started >= 140);
    assert.deepEqual(fake.stats().requestStatuses, { 503: 1, 413: 1, 429: 1, 200: 2 });
  });
});

test('mapping rejection: document_parsing_exception on 8, mapper_parsing_exception on 7.17', async () => {
  for (const [flavour, type] of [['elasticsearch-8', 'document_parsing_exception'], ['elasticsearch-7.17', 'mapper_parsing_exception']] as const) {
    await withFake({ flavour, reject: (doc) => (doc as { bad?: boolean }).bad === true }, async (fake) => {
      const a = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'a', _id: 'k4' } }, { bad: true }, { create: { _index: 'a', _id: 'k5' } }, { bad: false }));
      const bad = a.json.items[0].create;
      assert.deepEqual([bad.status, bad.error.type, bad.error.caused_by.type], [400, type, 'illegal_argument_exception']);
      // DocumentParsingException (8.8+) starts with the position; MapperParsingException does not.
      assert.equal(bad.error.reason, (type === 'document_parsing_exception' ? '[1:42] ' : '') + "failed to parse field [kubernetes.labels.app] of type [text] in document with id 'k4'. Preview of field's value: '{name=x}'");
      assert.equal(a.json.items[1].create.status, 201);
      assert.equal(fake.count(), 1);
    });
  }
});

test('with automatic index creation off, a missing index is an item 404 index_not_found_exception', async () => {
  await withFake({ autoCreateIndex: false }, async (fake) => {
    const a = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'nope', _id: '1' } }, {}));
    assert.deepEqual(a.json.items[0], { create: { _index: 'nope', _id: '1', status: 404, error: { type: 'index_not_found_exception', reason: 'no such index [nope] and [action.auto_create_index] is [false]', index_uuid: '_na_', index: 'nope' } } });
  });
});

test('auth: basic and ApiKey accepted; wrong or missing credentials get 401 security_exception with WWW-Authenticate', async () => {
  const apiKey = Buffer.from('id:secret-key').toString('base64');
  await withFake({ auth: { username: 'elastic', password: 'changeme', apiKey } }, async (fake) => {
    const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    assert.equal((await call(fake, 'GET', '/', undefined, basic('elastic', 'changeme'))).status, 200);
    assert.equal((await call(fake, 'GET', '/', undefined, { authorization: `ApiKey ${apiKey}` })).status, 200);
    const wrong = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'a' } }, {}), basic('elastic', 'nope'));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error.type, 'security_exception');
    assert.equal(wrong.json.error.reason, 'unable to authenticate user [elastic] for REST request [/_bulk]');
    assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="security", charset="UTF-8", Bearer realm="security", ApiKey');
    const missing = await call(fake, 'GET', '/');
    assert.deepEqual([missing.status, missing.json.error.reason], [401, 'missing authentication credentials for REST request [/]']);
    const badKey = await call(fake, 'GET', '/', undefined, { authorization: 'ApiKey bm9wZQ==' });
    assert.equal(badKey.status, 401);
    assert.equal(fake.count(), 0);
  });
});

test('vendor media types lock to server majors: 8 takes 7/8, 9 takes 8/9, 7.17 and OpenSearch answer 406', async () => {
  const cases = [
    ['elasticsearch-8', 8, 200], ['elasticsearch-8', 9, 400],
    ['elasticsearch-9', 9, 200], ['elasticsearch-9', 8, 200], ['elasticsearch-9', 7, 400],
    ['elasticsearch-7.17', 8, 406], ['opensearch-2', 9, 406],
  ] as const;
  for (const [flavour, n, status] of cases) {
    await withFake({ flavour }, async (fake) => {
      const a = await call(fake, 'GET', '/', undefined, { accept: `application/vnd.elasticsearch+json; compatible-with=${n}` });
      assert.equal(a.status, status, `${flavour} compatible-with=${n}`);
    });
  }
});

test('index templates are stored', async () => {
  await withFake({}, async (fake) => {
    const a = await call(fake, 'PUT', '/_index_template/t1', JSON.stringify({ index_patterns: ['x-*'] }), { 'content-type': 'application/json' });
    assert.deepEqual([a.status, a.json], [200, { acknowledged: true }]);
    assert.deepEqual(fake.templates().get('t1'), { index_patterns: ['x-*'] });
  });
});

test('down() refuses connections; up() listens again on the same port with the documents kept', async () => {
  await withFake({}, async (fake) => {
    await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'a', _id: '1' } }, {}));
    await fake.down();
    await assert.rejects(call(fake, 'GET', '/'), (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'ECONNREFUSED');
    await fake.up();
    assert.equal((await call(fake, 'GET', '/')).status, 200);
    assert.equal(fake.count(), 1);
  });
});

test('runs as its own process and prints {"url"} when listening', async () => {
  const child = spawn(process.execPath, ['test/support/fake-elasticsearch.ts', '--port', '0', '--flavour', 'opensearch-2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const [chunk] = (await Promise.race([
      once(child.stdout, 'data'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no url line within 10 s')), 10_000).unref()),
    ])) as [Buffer];
    const { url } = JSON.parse(chunk.toString()) as { url: string };
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    assert.equal(((await res.json()) as { version: { distribution: string } }).version.distribution, 'opensearch');
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  }
});
