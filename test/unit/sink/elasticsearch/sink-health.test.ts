import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Log } from '../../../../agent/core/log.ts';
import { SinkHealth } from '../../../../agent/sink/elasticsearch/sink-health.ts';

function recordingLog(): { log: Log; lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  const at = (level: string) => (_: object, message: string) => void lines.push([level, message]);
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

test('not ready until the server answered once', () => {
  const { log } = recordingLog();
  const h = new SinkHealth(log, 'none');
  assert.equal(h.ready(), false);
  h.answered('http://es:9200');
  assert.equal(h.ready(), true);
});

test('one failed bulk between answers is a blip: no log, still ready; two in a row are an outage, logged once', () => {
  const { log, lines } = recordingLog();
  const h = new SinkHealth(log, 'none');
  h.answered('h');
  h.unreachable('h', 'ECONNRESET: other side closed', 100);
  assert.equal(h.ready(), true);
  assert.equal(lines.length, 0);
  h.answered('h');
  h.unreachable('h', 'ECONNRESET', 100);
  h.unreachable('h', 'ECONNREFUSED', 100);
  h.unreachable('h', 'ECONNREFUSED', 100);
  assert.equal(h.ready(), false);
  assert.equal(lines.filter(([l]) => l === 'error').length, 1);
  h.answered('h');
  assert.equal(h.ready(), true);
  assert.deepEqual(lines.at(-1), ['info', 'Elasticsearch output: the server answers normally again']);
});

test('the start-up probe is certain at once; credentials and stuck answers keep it unready until an answer', () => {
  const { log, lines } = recordingLog();
  const h = new SinkHealth(log, 'basic (user elastic)');
  h.unreachable('h', 'ECONNREFUSED', 100, true);
  assert.equal(lines.length, 1);
  h.answered('h');
  h.unauthorized('h', 401, { type: 'security_exception', reason: 'unable to authenticate user [elastic]' }, 100);
  h.unauthorized('h', 401, { type: 'security_exception', reason: 'unable to authenticate user [elastic]' }, 100);
  assert.equal(h.ready(), false);
  h.answered('h');
  h.stuck('h', 406, { type: 'media_type_header_exception', reason: 'no' }, 100);
  assert.equal(h.ready(), false);
  h.answered('h');
  assert.equal(h.ready(), true);
  assert.deepEqual(lines.map(([l]) => l), ['error', 'info', 'error', 'info', 'error', 'info']);
});

test('a cluster block is logged once when it starts and once when it ends; the sink is unready meanwhile', () => {
  const { log, lines } = recordingLog();
  const h = new SinkHealth(log, 'none');
  h.answered('h');
  h.clusterBlock('h', undefined, 100);
  h.clusterBlock('h', undefined, 100);
  assert.equal(h.ready(), false);
  h.clusterUnblocked();
  h.clusterUnblocked();
  assert.equal(h.ready(), true);
  assert.deepEqual(lines.map(([l]) => l), ['warn', 'info']);
});

test('answers that store nothing make the sink unready from the third in a row, until one stores', () => {
  const { log, lines } = recordingLog();
  const h = new SinkHealth(log, 'none');
  h.answered('h');
  h.refused('h', 429);
  h.refused('h', 502);
  assert.equal(h.ready(), true, 'one or two are routine under load');
  h.accepted();
  h.refused('h', 429);
  h.refused('h', 429);
  assert.equal(h.ready(), true, 'an answer that stored starts the count again');
  h.refused('h', 503);
  h.refused('h', 503);
  assert.equal(h.ready(), false);
  h.accepted();
  assert.equal(h.ready(), true);
  assert.deepEqual(lines.map(([l]) => l), ['warn', 'info']);
});

test('a missing index is logged once per index', () => {
  const { log, lines } = recordingLog();
  const h = new SinkHealth(log, 'none');
  h.indexMissing('a');
  h.indexMissing('a');
  h.indexMissing('b');
  assert.equal(lines.length, 2);
});
