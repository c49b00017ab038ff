/** SIGHUP neither kills nor stops the agent (Node's default was exit 129 at once, offsets unsaved). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentProcess, gaps, sequenceCounts, tempStateDir } from '../support/agent-process.ts';
import { FakeNode } from '../support/fake-node.ts';

const seqs = (from: number, n: number) => Array.from({ length: n }, (_, i) => `line seq=${from + i}`);

test('SIGHUP is ignored and logged: the agent ships on, and stops cleanly on SIGTERM afterwards', async (t) => {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));
  const app = node.addContainer({ namespace: 'signals', pod: 'app', container: 'main' });
  app.write(seqs(0, 50));
  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir });
  t.after(() => agent.kill9());
  await agent.waitFor('50 records', () => agent.records.length >= 50);

  agent.child.kill('SIGHUP');
  await agent.waitFor('the SIGHUP warning', () => agent.logs.some((l) => l.signal === 'SIGHUP'));
  app.write(seqs(50, 50));
  await agent.waitFor('the lines written after SIGHUP', () => agent.records.length >= 100);
  assert.deepEqual(await agent.stop(), { code: 0, signal: null });
  assert.deepEqual(gaps(sequenceCounts(agent.records, () => 'app').get('app'), 100), { missing: [], repeated: [] });
  assert.match(String(agent.logs.find((l) => l.signal === 'SIGHUP')?.msg), /^SIGHUP ignored/);
});
