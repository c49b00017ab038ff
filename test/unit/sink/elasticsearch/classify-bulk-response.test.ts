import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyBulkResponse, classifyItem, type ItemOutcome } from '../../../../agent/sink/elasticsearch/classify-bulk-response.ts';

const err = (type: string, reason = 'r') => ({ type, reason });

test('items: the README\'s table of Elasticsearch answers, case by case', () => {
  const cases: Array<[string, number, string | undefined, ItemOutcome]> = [
    ['create', 201, undefined, { kind: 'delivered', replay: false }],
    ['index', 200, undefined, { kind: 'delivered', replay: false }],
    ['create', 409, 'version_conflict_engine_exception', { kind: 'delivered', replay: true }],
    ['index', 409, 'version_conflict_engine_exception', { kind: 'dead', reason: 'rejected', status: 409, error: err('version_conflict_engine_exception') }],
    ['create', 429, 'es_rejected_execution_exception', { kind: 'retry', problem: 'too_many_requests' }],
    ['create', 429, 'circuit_breaking_exception', { kind: 'retry', problem: 'too_many_requests' }],
    ['create', 503, 'unavailable_shards_exception', { kind: 'retry', problem: 'server_error' }],
    ['create', 500, undefined, { kind: 'retry', problem: 'server_error' }],
    ['create', 400, 'mapper_parsing_exception', { kind: 'dead', reason: 'mapping', status: 400, error: err('mapper_parsing_exception') }],
    ['create', 400, 'document_parsing_exception', { kind: 'dead', reason: 'mapping', status: 400, error: err('document_parsing_exception') }],
    ['create', 400, 'illegal_argument_exception', { kind: 'dead', reason: 'mapping', status: 400, error: err('illegal_argument_exception') }],
    ['create', 404, 'index_not_found_exception', { kind: 'dead', reason: 'index_not_found', status: 404, error: err('index_not_found_exception') }],
    ['create', 429, 'cluster_block_exception', { kind: 'retry', problem: 'cluster_block' }],
    // No privileges on this index: an operator fixes the role; the item waits, never dropped.
    ['create', 403, 'security_exception', { kind: 'retry', problem: 'unauthorized' }],
    ['create', 401, 'security_exception', { kind: 'retry', problem: 'unauthorized' }],
  ];
  for (const [action, status, type, expected] of cases) {
    assert.deepEqual(classifyItem(action, status, type === undefined ? undefined : err(type)), expected, `${action} ${status} ${type}`);
  }
});

test('a 403 block an operator set waits for the operator; the flood-stage block (id 12, 403 before 7.x) lifts by itself', () => {
  const write = err('cluster_block_exception', 'index [logs] blocked by: [FORBIDDEN/8/index write (api)];');
  assert.deepEqual(classifyItem('create', 403, write), { kind: 'retry', problem: 'index_blocked', error: write });
  const readOnly = err('cluster_block_exception', 'index [logs] blocked by: [FORBIDDEN/5/index read-only (api)];');
  assert.deepEqual(classifyItem('create', 403, readOnly), { kind: 'retry', problem: 'index_blocked', error: readOnly });
  const flood = err('cluster_block_exception', 'index [logs] blocked by: [FORBIDDEN/12/index read-only / allow delete (api)];');
  assert.deepEqual(classifyItem('create', 403, flood), { kind: 'retry', problem: 'cluster_block' });
  const body = (reason: string) => JSON.stringify({ error: { type: 'cluster_block_exception', reason }, status: 403 });
  const cluster = classifyBulkResponse(403, undefined, body('blocked by: [FORBIDDEN/6/cluster read-only (api)];'), 2, () => 'create');
  assert.deepEqual([cluster.kind, 'problem' in cluster && cluster.problem], ['retry', 'index_blocked']);
  const oldFlood = classifyBulkResponse(403, undefined, body('index [logs] blocked by: [FORBIDDEN/12/index read-only / allow delete (api)];'), 2, () => 'create');
  assert.deepEqual([oldFlood.kind, 'problem' in oldFlood && oldFlood.problem], ['retry', 'cluster_block']);
});

test('a 2xx answer with errors:false is all delivered without walking the items', () => {
  const body = '{"took":3,"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}';
  assert.deepEqual(classifyBulkResponse(200, undefined, body, 2, () => 'create'), { kind: 'items', items: [], allDelivered: true });
  // Elasticsearch 8.x puts errors first.
  assert.deepEqual(classifyBulkResponse(200, undefined, '{"errors":false,"took":3,"items":[]}', 2, () => 'create'), { kind: 'items', items: [], allDelivered: true });
});

test('a 2xx answer with errors: one outcome per item, in request order', () => {
  const body = JSON.stringify({
    took: 12,
    errors: true,
    items: [
      { create: { _index: 'logs-a', _id: 'k1', _version: 1, result: 'created', status: 201 } },
      { create: { _index: 'logs-a', _id: 'k2', status: 409, error: { type: 'version_conflict_engine_exception', reason: '[k2]: version conflict' } } },
      { create: { _index: 'logs-a', _id: 'k3', status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected' } } },
      { create: { _index: 'logs-a', _id: 'k4', status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse' } } },
    ],
  });
  assert.deepEqual(classifyBulkResponse(200, undefined, body, 4, () => 'create'), {
    kind: 'items',
    allDelivered: false,
    items: [
      { kind: 'delivered', replay: false },
      { kind: 'delivered', replay: true },
      { kind: 'retry', problem: 'too_many_requests' },
      { kind: 'dead', reason: 'mapping', status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse' } },
    ],
  });
});

test('a 2xx answer whose items do not match the request is retried whole', () => {
  for (const body of ['<html>proxy</html>', '{"errors":true,"items":[]}', '{"took":1}', '']) {
    const o = classifyBulkResponse(200, undefined, body, 3, () => 'create');
    assert.equal(o.kind, 'retry', body);
    assert.equal(o.kind === 'retry' && o.problem, 'server_error');
  }
});

test('request-level answers', () => {
  const es = (status: number, type: string) => JSON.stringify({ error: { root_cause: [{ type, reason: 'why' }], type, reason: 'why' }, status });
  const kind = (status: number, body: string, retryAfter?: number) => {
    const o = classifyBulkResponse(status, retryAfter, body, 2, () => 'create');
    return [o.kind, 'problem' in o ? o.problem : undefined, 'pushBack' in o ? o.pushBack : undefined, 'retryAfterMs' in o ? o.retryAfterMs : undefined];
  };
  assert.deepEqual(kind(429, es(429, 'es_rejected_execution_exception'), 2000), ['retry', 'too_many_requests', true, 2000]);
  assert.deepEqual(kind(429, es(429, 'cluster_block_exception')), ['retry', 'cluster_block', true, undefined]);
  for (const s of [500, 502, 503, 504]) assert.deepEqual(kind(s, ''), ['retry', 'server_error', true, undefined]);
  assert.deepEqual(kind(413, ''), ['split', 'too_large', undefined, undefined]);
  assert.deepEqual(kind(400, es(400, 'x_content_parse_exception')), ['split', 'bad_request', undefined, undefined]);
  assert.deepEqual(kind(400, es(400, 'media_type_header_exception')), ['stuck', undefined, undefined, undefined]);
  // Only a body that did not parse can come from one item; any other whole-request 400 would dead-letter everything if split.
  assert.deepEqual(kind(400, es(400, 'illegal_argument_exception')), ['stuck', undefined, undefined, undefined]);
  assert.deepEqual(kind(400, '<html><body>400 The plain HTTP request was sent to HTTPS port</body></html>'), ['stuck', undefined, undefined, undefined]);
  assert.deepEqual(kind(401, es(401, 'security_exception')), ['unauthorized', undefined, undefined, undefined]);
  assert.deepEqual(kind(403, es(403, 'security_exception')), ['unauthorized', undefined, undefined, undefined]);
  assert.deepEqual(kind(406, ''), ['stuck', undefined, undefined, undefined]);
  assert.deepEqual(kind(404, ''), ['stuck', undefined, undefined, undefined]);
  const unauthorized = classifyBulkResponse(401, undefined, es(401, 'security_exception'), 1, () => 'create');
  assert.deepEqual(unauthorized, { kind: 'unauthorized', status: 401, error: { type: 'security_exception', reason: 'why' } });
});

test('failure store (Elasticsearch 9): a 201 with failure_store "used" is set aside, not delivered; searched for only where one can be in use', () => {
  const body = JSON.stringify({ errors: false, took: 2, items: [{ create: { _index: 'x', _id: 'a', status: 201 } }, { create: { _index: '.fs-logs-a-b-2026.01.01-000001', _id: 'b', status: 201, failure_store: 'used' } }] });
  assert.deepEqual(classifyBulkResponse(200, undefined, body, 2, () => 'create', true), {
    kind: 'items',
    allDelivered: false,
    items: [
      { kind: 'delivered', replay: false },
      { kind: 'dead', reason: 'failure_store', status: 201, error: { type: 'failure_store', reason: "the data stream's mappings refused the document; stored in its failure store index [.fs-logs-a-b-2026.01.01-000001]" } },
    ],
  });
  assert.deepEqual(classifyBulkResponse(200, undefined, body, 2, () => 'create', false), { kind: 'items', items: [], allDelivered: true });
});
