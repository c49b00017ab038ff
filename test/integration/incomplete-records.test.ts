/**
 * A CRI `P` whose `F` never comes, and a docker chunk whose last part never comes: shipped after
 * partial_wait_ms (its default), flagged, and the checkpoint moves past them, so a restart sends
 * nothing again. Before, they were held for ever and every restart sent everything after them again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { FakeNode } from '../support/fake-node.ts';

type Doc = Record<string, unknown> & { kubernetes?: { pod_name?: string } };

test('a partial record whose end never comes ships after partial_wait_ms, flagged incomplete, and is not sent again after a restart', async (t) => {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));
  const cri = node.addContainer({ namespace: 'partial', pod: 'cri', container: 'app' });
  const docker = node.addContainer({ namespace: 'partial', pod: 'docker', container: 'app', format: 'docker' });
  const time = '2026-11-22T10:00:00.5Z';
  cri.write(['seq=0 whole']);
  cri.writeRaw(`${time} stdout P seq=1 a first part `);
  cri.writeRaw('whose F never comes\n');
  cri.writeRaw(`${time} stderr F seq=2 another stream\n`);
  docker.write(['seq=0 whole']);
  docker.writeRaw(`${JSON.stringify({ log: 'seq=1 a chunk whose end never comes', stream: 'stdout', time: '2026-11-22T10:00:00.123456789Z' })}\n`);

  const env = { NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir };
  const first = new AgentProcess(env);
  t.after(() => first.kill9());
  const of = (agent: AgentProcess, pod: string) => (agent.records as Doc[]).filter((r) => r.kubernetes?.pod_name === pod).map((r) => [r.log, r.decode_error]);
  await first.waitFor('the incomplete records', () => of(first, 'cri').length === 3 && of(first, 'docker').length === 2);
  cri.write(['seq=3 after']);
  docker.write(['seq=2 after']);
  await first.waitFor('the lines after them', () => of(first, 'cri').length === 4 && of(first, 'docker').length === 3);
  assert.equal((await first.stop()).code, 0);

  assert.deepEqual(of(first, 'cri'), [
    ['seq=0 whole', undefined],
    ['seq=2 another stream', undefined],
    ['seq=1 a first part whose F never comes', 'incomplete'],
    ['seq=3 after', undefined],
  ]);
  assert.deepEqual(of(first, 'docker'), [
    ['seq=0 whole', undefined],
    ['seq=1 a chunk whose end never comes', 'incomplete'],
    ['seq=2 after', undefined],
  ]);
  const warnings = first.logs.filter((l) => String(l.msg).includes('never came within partial_wait_ms'));
  assert.equal(warnings.length, 2, 'once per file');

  // The checkpoints moved past them: a restart sends only what is new.
  cri.write(['seq=4 new']);
  docker.write(['seq=3 new']);
  const second = new AgentProcess(env);
  t.after(() => second.kill9());
  await second.waitFor('the new lines', () => of(second, 'cri').some(([log]) => log === 'seq=4 new') && of(second, 'docker').some(([log]) => log === 'seq=3 new'));
  assert.equal((await second.stop()).code, 0);
  assert.deepEqual(of(second, 'cri'), [['seq=4 new', undefined]]);
  assert.deepEqual(of(second, 'docker'), [['seq=3 new', undefined]]);
});
