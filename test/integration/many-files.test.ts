import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { AgentProcess, gaps, sequenceCounts, tempStateDir } from '../support/agent-process.ts';
import { FakeNode } from '../support/fake-node.ts';
import { cpuSeconds } from '../support/process-usage.ts';
import { OPTIONS } from '../../agent/config/options.ts';

const shipped = (key: string) => String(OPTIONS.find((o) => o.key === key)?.default);

test('2,000 files: all found and read; idle CPU reported', async (t) => {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));
  const files = 2000;
  for (let i = 0; i < files; i++) {
    const c = node.addContainer({ namespace: `ns-${i % 20}`, pod: `pod-${i}`, container: 'app' });
    c.write(Array.from({ length: 5 }, (_, j) => `seq=${j} file ${i}`));
    c.close();
  }
  // The shipped defaults for polling and rescans: this also reports the idle cost users get.
  const poll = shipped('poll_interval_ms');
  const rescan = shipped('rescan_interval_ms');
  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, NODETAIL_POLL_INTERVAL_MS: poll, NODETAIL_RESCAN_INTERVAL_MS: rescan });
  t.after(() => agent.kill9());
  await agent.waitFor(`${files * 5} records`, () => agent.records.length >= files * 5, 60_000);

  const counts = sequenceCounts(agent.records as Array<Record<string, unknown> & { kubernetes: { pod_name: string } }>, (r) => r.kubernetes.pod_name);
  assert.equal(counts.size, files);
  for (let i = 0; i < files; i++) assert.deepEqual(gaps(counts.get(`pod-${i}`), 5), { missing: [], repeated: [] }, `pod-${i}`);

  await sleep(2000); // settle: the first rescan and watches are in place
  const pid = agent.child.pid as number;
  const before = await cpuSeconds(pid);
  const idleSeconds = 10;
  await sleep(idleSeconds * 1000);
  const used = (await cpuSeconds(pid)) - before;
  t.diagnostic(`idle with ${files} files: ${((used / idleSeconds) * 100).toFixed(2)}% of one core over ${idleSeconds} s (shipped defaults: poll ${poll} ms, rescan ${rescan} ms)`);
  assert.equal(agent.records.length, files * 5);
  await agent.stop();
});
