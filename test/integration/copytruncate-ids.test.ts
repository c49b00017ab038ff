/**
 * copytruncate with a first line written again unchanged (a banner, a fixed start-up message):
 * the new content sits at the old offsets under the same inode and the same fingerprint, so
 * without a truncation generation in the `_id` Elasticsearch would answer 409 for lines it
 * never saw and the agent would count them delivered. The real agent, the fake Elasticsearch
 * (which answers 409 on a repeated `_id` with `op_type: create`), a host log on a real file.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { startFakeElasticsearch, type FakeElasticsearch } from '../support/fake-elasticsearch.ts';
import { FakeNode, type FakeHostLog } from '../support/fake-node.ts';
import { until } from '../support/until.ts';

const BANNER = 'service starting: version 1.4.2';

interface Rig {
  readonly es: FakeElasticsearch;
  readonly log: FakeHostLog;
  readonly start: () => AgentProcess;
  readonly stateFile: string;
}

async function rig(t: TestContext): Promise<Rig> {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  const es = await startFakeElasticsearch();
  t.after(() => Promise.all([node.remove(), state.remove(), es.close()]));
  const log = node.addHostLog('app.log');
  const start = () => {
    const agent = new AgentProcess({ NODETAIL_PATHS: join(node.root, 'var/log/*.log'), NODETAIL_STATE_DIR: state.dir, ELASTICSEARCH_URL: es.url });
    t.after(() => agent.kill9());
    return agent;
  };
  return { es, log, start, stateFile: join(state.dir, 'checkpoints.json') };
}

/** The messages indexed, sorted, and the count of `_id`s (one per document). */
function indexed(es: FakeElasticsearch): string[] {
  return es.docs().map((d) => String((d.doc as { log: unknown }).log)).sort();
}

const first = [BANNER, ...Array.from({ length: 20 }, (_, i) => `before ${String(i).padStart(2, '0')} ${'x'.repeat(40)}`)];
const second = [BANNER, ...Array.from({ length: 5 }, (_, i) => `after ${i}`)];
const expected = [...first, ...second].sort();

function copytruncate(log: FakeHostLog, lines: readonly string[]): void {
  copyFileSync(log.path, `${log.path}.1`);
  truncateSync(log.path, 0);
  log.write(lines);
}

test('copytruncate while running, the first line written again unchanged: the new lines get new _ids and are indexed', { timeout: 40_000 }, async (t) => {
  const { es, log, start, stateFile } = await rig(t);
  log.write(first);
  const agent = start();
  await until('the first lines indexed', () => (es.count() === first.length ? true : undefined), 20_000, agent);

  truncateSync(log.path, 0);
  // Written only once the agent has seen the file empty: the lines written after a truncation
  // are then read from 0 whatever the machine's load, which is what this test is about.
  await until('the truncation noticed', () => agent.logs.find((l) => l.msg === 'file truncated (copytruncate?): reading it again from the start'), 20_000, agent);
  log.write(second);
  await until('the lines written after the truncation', () => (es.count() === expected.length ? true : undefined), 20_000, agent);
  await sleep(300);
  assert.deepEqual(indexed(es), expected);
  assert.equal(es.stats().itemStatuses[409] ?? 0, 0, 'no line answered 409');
  assert.equal((await agent.stop()).code, 0);
  const files = Object.values((JSON.parse(readFileSync(stateFile, 'utf8')) as { files: Record<string, { offset: number; generation?: number }> }).files);
  assert.deepEqual(files.map((f) => [f.offset, f.generation]), [[Buffer.byteLength(second.join('\n') + '\n'), 1]]);

  // A restart finds the same generation in the checkpoint: nothing is read again, nothing new.
  const again = start();
  log.write(['after restart']);
  await until('the line written after the restart', () => (es.count() === expected.length + 1 ? true : undefined), 20_000, again);
  await sleep(300);
  assert.equal((await again.stop()).code, 0);
  assert.deepEqual(indexed(es), [...expected, 'after restart'].sort());
});

test('copytruncate while stopped, the first line written again unchanged: read from the start with new _ids, nothing swallowed as 409', { timeout: 40_000 }, async (t) => {
  const { es, log, start } = await rig(t);
  log.write(first);
  const agent = start();
  await until('the first lines indexed', () => (es.count() === first.length ? true : undefined), 20_000, agent);
  await sleep(300); // the checkpoint (every 100 ms) is past them
  assert.equal((await agent.stop()).code, 0);

  copytruncate(log, second);
  const restarted = start();
  await until('the lines written while stopped', () => (es.count() === expected.length ? true : undefined), 20_000, restarted);
  await sleep(300);
  assert.equal((await restarted.stop()).code, 0);
  assert.deepEqual(indexed(es), expected);
  assert.equal(es.stats().itemStatuses[409] ?? 0, 0, 'no line answered 409');
  assert.ok(restarted.logs.some((l) => l.msg === 'file truncated while stopped (copytruncate?): reading it again from the start'));
});
