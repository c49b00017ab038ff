/**
 * Host log lines carry their own time when they start with one (syslog): it becomes the
 * record's @timestamp and picks its daily index, so a line read again after a restart (even
 * on another day) goes to the same index under the same `_id` and is answered 409. The real
 * agent, in Europe/Berlin (TZ), shipping to the fake Elasticsearch.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { startFakeElasticsearch } from '../support/fake-elasticsearch.ts';
import { FakeNode } from '../support/fake-node.ts';
import { until } from '../support/until.ts';

/** The year a traditional syslog time without one is given: the read year, or the one before when that would put it over a day ahead. */
function syslogYear(month: number, day: number, utcHours: number): number {
  const now = Date.now();
  const year = new Date(now).getUTCFullYear();
  return Date.UTC(year, month, day, utcHours) > now + 86_400_000 ? year - 1 : year;
}

test('syslog times (RFC 3339 as written, RFC 3164 in the agent zone) time host lines and pick their index; a replay is all 409', { timeout: 40_000 }, async (t) => {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  const es = await startFakeElasticsearch();
  t.after(() => Promise.all([node.remove(), state.remove(), es.close()]));
  const syslog = node.addHostLog('syslog.log');
  const writtenAt = Date.now();
  syslog.write([
    '2024-03-05T23:30:00.123456+01:00 node-1 kubelet[812]: high precision',
    'Mar  5 23:30:00 node-1 kernel: traditional',
    'no time at all',
  ]);
  const env = { NODETAIL_PATHS: join(node.root, 'var/log/*.log'), NODETAIL_STATE_DIR: state.dir, ELASTICSEARCH_URL: es.url, TZ: 'Europe/Berlin' };
  const agent = new AgentProcess(env);
  t.after(() => agent.kill9());
  await until('3 documents', () => (es.count() === 3 ? true : undefined), 20_000, agent);
  await sleep(300);
  assert.equal((await agent.stop()).code, 0);

  const year = syslogYear(2, 5, 22);
  const today = new Date(writtenAt).toISOString().slice(0, 10).replaceAll('-', '.');
  const got = es.docs().map((d) => {
    const doc = d.doc as { log: string; '@timestamp': string };
    return { log: doc.log, time: doc['@timestamp'], index: d.index };
  });
  const plain = got.find((d) => d.log === 'no time at all');
  assert.ok(plain !== undefined && Date.parse(plain.time) >= writtenAt - 1000 && Date.parse(plain.time) <= Date.now(), 'a line without a time is timed when read');
  assert.deepEqual(got.filter((d) => d !== plain), [
    // 23:30 at +01:00 is the 5th in UTC.
    { log: '2024-03-05T23:30:00.123456+01:00 node-1 kubelet[812]: high precision', time: '2024-03-05T23:30:00.123456+01:00', index: 'logstash-2024.03.05' },
    // 23:30 in Berlin (winter time, +01:00) is 22:30 UTC.
    { log: 'Mar  5 23:30:00 node-1 kernel: traditional', time: `${year}-03-05T22:30:00.000Z`, index: `logstash-${year}.03.05` },
  ]);
  assert.equal(plain.index, `logstash-${today}`);

  // Read again from scratch: the same ids in the same indices, so nothing is added.
  rmSync(join(state.dir, 'checkpoints.json'));
  const again = new AgentProcess(env);
  t.after(() => again.kill9());
  await until('the replay answered 409', () => (es.stats().itemStatuses[409] === 3 ? true : undefined), 20_000, again);
  assert.equal((await again.stop()).code, 0);
  assert.deepEqual(es.stats().itemStatuses, { 201: 3, 409: 3 });
});
