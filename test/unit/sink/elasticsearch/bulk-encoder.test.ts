import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogRecord } from '../../../../agent/core/record.ts';
import { createBulkEncoder } from '../../../../agent/sink/elasticsearch/bulk-encoder.ts';
import { logFile, logRecord } from './records.ts';

const doc = (r: LogRecord) => JSON.stringify({ '@timestamp': r.time, message: r.message });

test('deterministic ids: create with _id = idPrefix-offset in base 36, then the document', () => {
  const encode = createBulkEncoder({ deterministicIds: true }, () => 'logstash-2024.03.05', doc);
  const file = logFile('abc123');
  assert.equal(
    encode(logRecord(file, 123456789, '2024-03-05T10:00:00Z', 'hello')),
    '{"create":{"_index":"logstash-2024.03.05","_id":"abc123-21i3v9"}}\n{"@timestamp":"2024-03-05T10:00:00Z","message":"hello"}\n',
  );
  assert.equal(encode(logRecord(file, 0, '2024-03-05T10:00:00Z', 'x')).split('\n')[0], '{"create":{"_index":"logstash-2024.03.05","_id":"abc123-0"}}');
  // A prefix that needs escaping is still valid JSON.
  const odd = encode(logRecord(logFile('a"b\\c'), 35, '2024-03-05T10:00:00Z', 'x'));
  assert.deepEqual(JSON.parse(odd.split('\n')[0] as string), { create: { _index: 'logstash-2024.03.05', _id: 'a"b\\c-z' } });
});

test('ids off: create without _id, which indices and data streams alike take', () => {
  const r = logRecord(logFile(), 5, '2024-03-05T10:00:00Z', 'm');
  assert.equal(createBulkEncoder({ deterministicIds: false }, () => 'i', doc)(r), '{"create":{"_index":"i"}}\n{"@timestamp":"2024-03-05T10:00:00Z","message":"m"}\n');
  assert.equal(createBulkEncoder({ deterministicIds: false }, () => 'logs-a-b', doc)(r).split('\n')[0], '{"create":{"_index":"logs-a-b"}}');
});

test('the index name follows each record (no stale cache across days)', () => {
  const encode = createBulkEncoder({ deterministicIds: true }, (r) => `x-${r.time.slice(0, 10)}`, doc);
  const file = logFile('p');
  const first = encode(logRecord(file, 1, '2024-03-05T10:00:00Z'));
  const second = encode(logRecord(file, 2, '2024-03-06T10:00:00Z'));
  assert.equal(JSON.parse(first.split('\n')[0] as string).create._index, 'x-2024-03-05');
  assert.equal(JSON.parse(second.split('\n')[0] as string).create._index, 'x-2024-03-06');
});
