import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIndexNamer, strftimeUtc } from '../../../../agent/sink/elasticsearch/index-namer.ts';
import { logFile, logRecord } from './records.ts';

const logstash = { indexMode: 'logstash', indexName: 'logstash', logstashPrefix: 'logstash', logstashDateformat: '%Y.%m.%d', dataStreamDataset: 'kubernetes', dataStreamNamespace: 'default' } as const;
const file = logFile();
const at = (time: string) => logRecord(file, 0, time);

test('logstash mode names the index by the record\'s UTC day', () => {
  const name = createIndexNamer(logstash, () => Date.UTC(2030, 0, 2));
  const cases: Array<[string, string]> = [
    ['2024-03-05T10:11:12.1Z', 'logstash-2024.03.05'], // containerd
    ['2024-03-05T23:59:59.123456789+00:00', 'logstash-2024.03.05'], // CRI-O
    ['2024-03-05T23:30:00-02:00', 'logstash-2024.03.06'], // not UTC: the UTC day is the next one
    ['2024-03-06T01:00:00+02:00', 'logstash-2024.03.05'],
    ['2024-12-31T23:59:59.999Z', 'logstash-2024.12.31'],
    ['not a time', 'logstash-2030.01.02'], // today's index rather than nowhere
    ['', 'logstash-2030.01.02'],
  ];
  for (const [time, index] of cases) assert.equal(name(at(time)), index, time);
});

test('days that alternate (records of two files around midnight) each get their own index', () => {
  const name = createIndexNamer(logstash, () => Date.UTC(2030, 0, 2));
  const days = ['2024-03-05T23:59:59Z', '2024-03-06T00:00:01Z', '2024-03-05T23:59:59.9+00:00', '2024-03-06T00:00:02.5Z', 'garbage-but-Z', '2024-03-06T00:00:03Z'];
  assert.deepEqual(days.map((t) => name(at(t)).slice(9)), ['2024.03.05', '2024.03.06', '2024.03.05', '2024.03.06', '2030.01.02', '2024.03.06']);
});

test('the date format follows strftime and the prefix is configurable', () => {
  const name = createIndexNamer({ ...logstash, logstashPrefix: 'k8s', logstashDateformat: '%Y-%m-%d.%H' });
  assert.equal(name(at('2024-03-05T07:11:12Z')), 'k8s-2024-03-05.07');
  assert.equal(name(at('2024-03-05T08:00:00Z')), 'k8s-2024-03-05.08');
  assert.equal(name(at('2024-03-05T09:30:00+01:00')), 'k8s-2024-03-05.08');
  const d = new Date(Date.UTC(2024, 1, 29, 5));
  assert.equal(strftimeUtc('%Y%m%d %H %y %j %% %Q', d), '20240229 05 24 060 % %Q');
});

test('data_stream mode: logs-<dataset>-<namespace> whatever the time', () => {
  const name = createIndexNamer({ ...logstash, indexMode: 'data_stream', dataStreamDataset: 'k8s', dataStreamNamespace: 'prod' });
  assert.equal(name(at('2024-03-05T10:00:00Z')), 'logs-k8s-prod');
  assert.equal(name(at('garbage')), 'logs-k8s-prod');
});

test('index mode (Fluentd\'s logstash_format false): every record into the one index_name', () => {
  const name = createIndexNamer({ ...logstash, indexMode: 'index', indexName: 'k8s-logs' });
  assert.equal(name(at('2024-03-05T10:00:00Z')), 'k8s-logs');
  assert.equal(name(at('2024-03-06T10:00:00Z')), 'k8s-logs');
  assert.equal(name(at('garbage')), 'k8s-logs');
});
