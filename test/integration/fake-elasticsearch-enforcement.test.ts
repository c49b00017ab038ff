/**
 * What the fake Elasticsearch enforces as a real cluster does (issue 19): mappings, data streams
 * with backing indices and rollover, index blocks, the early 413, request validation, the 9.x
 * failure store and index names. Each test names the server source or documentation page the
 * behaviour follows; the exact status and body shapes are pinned.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { call, ndjson, withFake } from '../support/fake-elasticsearch-client.ts';

const today = (): string => new Date().toISOString().slice(0, 10).replaceAll('-', '.');
const ecsDoc = { '@timestamp': '2024-03-05T10:00:00Z', message: 'm', log: { file: { path: '/var/log/containers/a.log' } } };

// DocumentParser.java (server/src/main/java/org/elasticsearch/index/mapper/): an object where the
// mapping has text is "failed to parse field ... Can't get text on a START_OBJECT"; a value where it
// has an object is "object mapping ... tried to parse field ... as object, but found a concrete value".
test('mappings: a template\'s explicit properties are enforced, with the type named per version', async () => {
  const template = { index_patterns: ['logstash-*'], priority: 200, template: { mappings: { properties: { log: { type: 'text' }, '@timestamp': { type: 'date' } } } } };
  for (const [flavour, type, position] of [['elasticsearch-8', 'document_parsing_exception', '[1:58] '], ['elasticsearch-7.17', 'mapper_parsing_exception', ''], ['opensearch-2', 'mapper_parsing_exception', '']] as const) {
    await withFake({ flavour }, async (fake) => {
      await call(fake, 'PUT', '/_index_template/t', JSON.stringify(template), { 'content-type': 'application/json' });
      const a = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'logstash-2024.03.05', _id: 'e1' } }, ecsDoc, { create: { _index: 'logstash-2024.03.05', _id: 'f1' } }, { '@timestamp': '2024-03-05T10:00:00Z', log: 'text' }));
      assert.equal(a.json.errors, true);
      assert.deepEqual(a.json.items[0].create, {
        _index: 'logstash-2024.03.05', _id: 'e1', status: 400,
        error: {
          type,
          reason: `${position}failed to parse field [log] of type [text] in document with id 'e1'. Preview of field's value: '{file={path=/var/log/containers/a.log}}'`,
          caused_by: { type: 'illegal_state_exception', reason: "Can't get text on a START_OBJECT at 1:58" },
        },
      }, flavour);
      assert.equal(a.json.items[1].create.status, 201);
      assert.equal(fake.mappingOf('logstash-2024.03.05', 'log'), 'text');
    });
  }
});

test('mappings: dynamic mappings are remembered per index, so a field given two shapes conflicts', async () => {
  await withFake({}, async (fake) => {
    const first = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'i1', _id: '1' } }, { host: { name: 'n1' }, n: 5, at: '2024-03-05T10:00:00Z' }));
    assert.equal(first.json.errors, false);
    // DynamicFieldsBuilder.java: integer → long, a date-looking string → date (date_detection), object → object.
    assert.deepEqual(['host', 'host.name', 'n', 'at'].map((f) => fake.mappingOf('i1', f)), ['object', 'text', 'long', 'date']);
    const second = await call(fake, 'POST', '/_bulk', ndjson(
      { create: { _index: 'i1', _id: '2' } }, { host: 'n2' },
      { create: { _index: 'i1', _id: '3' } }, { n: 'five' },
      { create: { _index: 'i1', _id: '4' } }, { at: 'yesterday' },
      { create: { _index: 'i2', _id: '5' } }, { host: 'n2' },
    ));
    const [scalar, number, date, elsewhere] = second.json.items.map((i: any) => i.create);
    assert.deepEqual(scalar.error, { type: 'document_parsing_exception', reason: '[1:1] object mapping for [host] tried to parse field [host] as object, but found a concrete value' });
    assert.deepEqual(number.error, { type: 'document_parsing_exception', reason: "[1:1] failed to parse field [n] of type [long] in document with id '3'. Preview of field's value: 'five'", caused_by: { type: 'number_format_exception', reason: 'For input string: "five"' } });
    assert.deepEqual([date.status, date.error.caused_by.type], [400, 'illegal_argument_exception']);
    // Another index has its own mappings.
    assert.equal(elsewhere.status, 201);
    assert.equal(fake.mappingOf('i2', 'host'), 'text');
    // A refused document maps nothing.
    const bad = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'i1', _id: '6' } }, { extra: 'x', n: 'six' }));
    assert.equal(bad.json.items[0].create.status, 400);
    assert.equal(fake.mappingOf('i1', 'extra'), undefined);
    assert.equal(fake.count('i1'), 1);
  });
});

// DataStream.getDefaultBackingIndexName (server/src/main/java/org/elasticsearch/cluster/metadata/DataStream.java),
// the "Rollover" and "Data streams" pages: a document is written to the write index only.
test('data streams: backing indices, rollover, and a create that conflicts only within the write index', async () => {
  await withFake({ flavour: 'elasticsearch-8' }, async (fake) => {
    const write = (id: string) => call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'logs-app-default', _id: id } }, { '@timestamp': '2024-03-05T10:00:00Z', message: id }));
    const first = await write('a');
    assert.equal(first.json.items[0].create._index, `.ds-logs-app-default-${today()}-000001`);
    assert.equal((await write('a')).json.items[0].create.status, 409);
    const rolled = await call(fake, 'POST', '/logs-app-default/_rollover');
    assert.deepEqual(rolled.json, { acknowledged: true, shards_acknowledged: true, old_index: `.ds-logs-app-default-${today()}-000001`, new_index: `.ds-logs-app-default-${today()}-000002`, rolled_over: true, dry_run: false, lazy: false, conditions: {} });
    const again = await write('a');
    assert.deepEqual([again.json.items[0].create.status, again.json.items[0].create._index], [201, `.ds-logs-app-default-${today()}-000002`]);
    assert.equal(fake.count('logs-app-default'), 2, 'the same _id is now held twice, once per backing index');
    assert.deepEqual(fake.docs('logs-app-default').map((d) => d.concreteIndex), [`.ds-logs-app-default-${today()}-000001`, `.ds-logs-app-default-${today()}-000002`]);
    assert.equal(fake.rollover('logs-app-default'), `.ds-logs-app-default-${today()}-000003`);
  });
});

// The built-in `logs` template ships with Elasticsearch from 7.9 (x-pack stack templates), not with OpenSearch.
test('data streams: logs-*-* is a data stream on Elasticsearch 7.17, 8 and 9 (index is refused), a plain index on OpenSearch', async () => {
  for (const [flavour, isStream] of [['elasticsearch-7.17', true], ['elasticsearch-8', true], ['elasticsearch-9', true], ['opensearch-2', false]] as const) {
    await withFake({ flavour }, async (fake) => {
      const a = await call(fake, 'POST', '/_bulk', ndjson({ index: { _index: 'logs-app-default' } }, { '@timestamp': '2024-03-05T10:00:00Z' }));
      const item = a.json.items[0].index;
      if (isStream) assert.deepEqual([item.status, item.error.type, item.error.reason], [400, 'illegal_argument_exception', 'only write ops with an op_type of create are allowed in data streams'], flavour);
      else assert.equal(item.status, 201, flavour);
    });
  }
});

// IndexMetadata.INDEX_WRITE_BLOCK / INDEX_READ_ONLY_BLOCK (server/src/main/java/org/elasticsearch/cluster/metadata/IndexMetadata.java).
test('index blocks: write and read_only blocks are item 403 cluster_block_exception until lifted; flood stage stays 429', async () => {
  await withFake({ indexBlocks: { 'logstash-a': 'write', 'logstash-b': 'read_only' } }, async (fake) => {
    const body = ndjson({ create: { _index: 'logstash-a', _id: '1' } }, {}, { create: { _index: 'logstash-b', _id: '2' } }, {}, { create: { _index: 'logstash-c', _id: '3' } }, {});
    const a = await call(fake, 'POST', '/_bulk', body);
    assert.deepEqual(a.json.items.map((i: any) => i.create.status), [403, 403, 201]);
    assert.deepEqual(a.json.items[0].create.error, { type: 'cluster_block_exception', reason: 'index [logstash-a] blocked by: [FORBIDDEN/8/index write (api)];' });
    assert.deepEqual(a.json.items[1].create.error, { type: 'cluster_block_exception', reason: 'index [logstash-b] blocked by: [FORBIDDEN/5/index read-only (api)];' });
    fake.configure({ indexBlocks: {}, clusterBlock: 'item' });
    const flood = await call(fake, 'POST', '/_bulk', body);
    assert.deepEqual(flood.json.items.map((i: any) => i.create.status), [429, 429, 429]);
    fake.configure({ clusterBlock: undefined });
    assert.deepEqual((await call(fake, 'POST', '/_bulk', body)).json.items.map((i: any) => i.create.status), [201, 201, 409]);
  });
});

/** A raw request that reports what the client sees: the answer, or the socket error while it still writes. */
function rawPost(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status?: number; headers?: Record<string, unknown>; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(`${url}/_bulk`, { method: 'POST', agent: false, headers: { 'content-type': 'application/x-ndjson', 'content-length': String(body.length), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(body);
  });
}

// http.max_content_length (the "HTTP settings" page) with Netty's HttpObjectAggregator in
// modules/transport-netty4: judged on Content-Length before the body is read, answered 413 with no
// body and Connection: close, and the connection closed.
test('413: early from Content-Length, empty, Connection: close, the socket closed; after gzip is decoded the limit still applies', async () => {
  await withFake({ maxBodyBytes: 1024 }, async (fake) => {
    const small = await rawPost(fake.url, Buffer.from(ndjson({ create: { _index: 'a', _id: '1' } }, { m: 'x'.repeat(2000) })));
    assert.deepEqual([small.status, small.body, small.headers?.connection, small.headers?.['content-length']], [413, '', 'close', '0']);
    // A body far larger than the socket buffers: the server does not read it, so the writer is reset
    // (or, when the answer wins the race, sees the 413).
    const huge = await rawPost(fake.url, Buffer.alloc(16 * 1024 * 1024, 'x'));
    assert.ok(huge.status === 413 || huge.error === 'ECONNRESET' || huge.error === 'EPIPE', JSON.stringify(huge));
    assert.equal(fake.count(), 0);
    const inflates = gzipSync(ndjson({ create: { _index: 'a', _id: '1' } }, { m: 'y'.repeat(5000) }));
    assert.ok(inflates.length < 1024);
    const zipped = await call(fake, 'POST', '/_bulk', inflates, { 'content-encoding': 'gzip' });
    assert.deepEqual([zipped.status, zipped.text], [413, '']);
    assert.deepEqual(fake.stats().requestStatuses, { 413: 3 });
    // The other side of the race: the RST arrives first and the client sees only the reset.
    fake.configure({ tooLargeAs: 'reset' });
    assert.deepEqual(await rawPost(fake.url, Buffer.from(ndjson({ create: { _index: 'a', _id: '1' } }, { m: 'x'.repeat(2000) }))), { error: 'ECONNRESET' });
  });
});

// BulkRequest.validate() → IndexRequest.validate() (server/src/main/java/org/elasticsearch/action/index/IndexRequest.java).
test('request validation: an _id over 512 bytes or a missing index fails the whole request with 400 action_request_validation_exception', async () => {
  await withFake({}, async (fake) => {
    const long = 'i'.repeat(513);
    const a = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'a', _id: '1' } }, {}, { create: { _index: 'a', _id: long } }, {}));
    const reason = `Validation Failed: 1: id [${long}] is too long, must be no longer than 512 bytes but was: 513;`;
    assert.deepEqual(a.json, { error: { root_cause: [{ type: 'action_request_validation_exception', reason }], type: 'action_request_validation_exception', reason }, status: 400 });
    const b = await call(fake, 'POST', '/_bulk', ndjson({ create: { _id: '1' } }, {}, { create: { _id: '2' } }, {}));
    assert.deepEqual([b.status, b.json.error.reason], [400, 'Validation Failed: 1: index is missing;2: index is missing;']);
    assert.equal(fake.count(), 0, 'nothing of a request that fails validation is written');
  });
});

// The "Failure store" page (Elasticsearch 9) and elasticsearch-specification _global/bulk/types.ts (FailureStoreStatus).
test('failure store (9.x): a data stream document its mappings refuse is answered 201 with failure_store "used", errors false', async () => {
  await withFake({ flavour: 'elasticsearch-9', failureStore: true }, async (fake) => {
    const a = await call(fake, 'POST', '/_bulk', ndjson(
      { create: { _index: 'logs-app-default', _id: 'ok' } }, { '@timestamp': '2024-03-05T10:00:00Z', data_stream: { type: 'logs' } },
      { create: { _index: 'logs-app-default', _id: 'bad' } }, { '@timestamp': '2024-03-05T10:00:00Z', data_stream: 'logs' },
    ));
    assert.equal(a.json.errors, false);
    const [ok, bad] = a.json.items.map((i: any) => i.create);
    assert.equal(ok.failure_store, undefined);
    assert.deepEqual(bad, { _index: `.fs-logs-app-default-${today()}-000001`, _id: 'bad', _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: 1, _primary_term: 1, failure_store: 'used', status: 201 });
    assert.equal(fake.count('logs-app-default'), 1);
    assert.deepEqual(fake.failureStoreDocs().map((d) => d.id), ['bad']);
  });
  // Without the failure store (or before 9), the same document is an item 400.
  await withFake({ flavour: 'elasticsearch-8', failureStore: true }, async (fake) => {
    const a = await call(fake, 'POST', '/_bulk', ndjson({ create: { _index: 'logs-app-default', _id: 'bad' } }, { '@timestamp': '2024-03-05T10:00:00Z', data_stream: 'logs' }));
    assert.equal(a.json.items[0].create.status, 400);
  });
});

// MetadataCreateIndexService.validateIndexOrAliasName (server/src/main/java/org/elasticsearch/cluster/metadata/MetadataCreateIndexService.java).
test('index names: uppercase, forbidden characters and a leading -, _ or + are item 400 invalid_index_name_exception', async () => {
  await withFake({}, async (fake) => {
    const names = ['Logs', 'a#b', 'a\\b', 'a/b', 'a*b', 'a?b', 'a"b', 'a<b', 'a>b', 'a|b', 'a b', 'a,b', '-a', '_a', '+a', 'ok-name'];
    const a = await call(fake, 'POST', '/_bulk', ndjson(...names.flatMap((n, i) => [{ create: { _index: n, _id: String(i) } }, {}])));
    const items = a.json.items.map((i: any) => i.create);
    assert.deepEqual(items.map((i: any) => i.status), [...names.slice(0, -1).map(() => 400), 201]);
    assert.deepEqual(items[0].error, { type: 'invalid_index_name_exception', reason: 'Invalid index name [Logs], must be lowercase', index_uuid: '_na_', index: 'Logs' });
    assert.equal(items[1].error.reason, "Invalid index name [a#b], must not contain '#'");
    assert.equal(items[2].error.reason, 'Invalid index name [a\\b], must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]');
    assert.equal(items[12].error.reason, "Invalid index name [-a], must not start with '_', '-', or '+'");
  });
});
