/**
 * One agent per state dir: a second agent on the same one is refused with a message naming
 * state_dir (before, both ran: every line went out twice and checkpoint writes failed with
 * ENOENT), and the restart of a crashed agent takes its lock over at once.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, gaps, sequenceCounts, tempStateDir } from '../support/agent-process.ts';
import { FakeNode } from '../support/fake-node.ts';

type Doc = Record<string, unknown> & { kubernetes?: { pod_name?: string } };
const seqs = (from: number, n: number) => Array.from({ length: n }, (_, i) => `line seq=${from + i}`);

test('a second agent on the same state dir is refused, naming state_dir; after a kill -9 the restart takes the lock over', async (t) => {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));
  const app = node.addContainer({ namespace: 'lock', pod: 'app', container: 'main' });
  app.write(seqs(0, 100));
  const env = { NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir };

  const first = new AgentProcess(env);
  t.after(() => first.kill9());
  await first.waitFor('100 records', () => first.records.length >= 100);

  const second = new AgentProcess(env);
  t.after(() => second.kill9());
  const exited = await Promise.race([second.exited, new Promise((resolve) => setTimeout(resolve, 20_000, 'still running after 20 s'))]);
  assert.deepEqual(exited, { code: 2, signal: null });
  const refusal = second.logs.map((l) => String(l.unparsed ?? l.msg)).find((m) => m.includes('another nodetail agent'));
  assert.match(String(refusal), /^nodetail: configuration: state_dir: another nodetail agent is running on /);
  assert.deepEqual(second.records, [], 'the second agent shipped nothing');

  // The first one is unharmed, and its crash leaves a lock that the next start takes over.
  app.write(seqs(100, 50));
  await first.waitFor('150 records', () => first.records.length >= 150);
  await new Promise((resolve) => setTimeout(resolve, 300)); // checkpoints written (every 100 ms)
  await first.kill9();
  assert.ok(existsSync(join(state.dir, 'nodetail.lock')), 'the crashed agent left its lock behind');
  app.write(seqs(150, 50));
  const third = new AgentProcess(env);
  t.after(() => third.kill9());
  await third.waitFor('the lines written after the crash', () => third.records.some((r) => String(r.log) === 'line seq=199'));
  assert.equal((await third.stop()).code, 0);
  assert.equal(existsSync(join(state.dir, 'nodetail.lock')), false, 'released at a clean stop');

  const all = [...first.records, ...third.records] as Doc[];
  assert.deepEqual(gaps(sequenceCounts(all, () => 'app').get('app'), 200).missing, []);
  assert.ok(third.logs.some((l) => l.msg === 'state dir lock of an agent that is gone: taken over'));
});
