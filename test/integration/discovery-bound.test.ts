/**
 * Discovery's bound, at the default intervals, with the fault made real: short-lived pods whose
 * logs the kubelet removes 0.5-2 s after their last line, and a fast container rotated every
 * 512 KiB with the previous rotated file gzipped, with inotify unavailable to the agent (every
 * inotify instance refused), with /var/log/containers a symlink, and after it was removed and
 * recreated. Every line must arrive exactly once. The scenarios run side by side.
 */
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentProcess, gaps, sequenceCounts, tempStateDir } from '../support/agent-process.ts';
import { FakeNode } from '../support/fake-node.ts';

type Doc = Record<string, unknown> & { kubernetes?: { pod_name?: string } };

/** The agent's own defaults for everything that bounds discovery (the test support shortens them). */
const DEFAULT_INTERVALS = { NODETAIL_POLL_INTERVAL_MS: '1000', NODETAIL_RESCAN_INTERVAL_MS: '30000', NODETAIL_ROTATE_WAIT_MS: '5000' };

interface Agent {
  readonly node: FakeNode;
  readonly agent: AgentProcess;
}

/** A fake node and the agent reading it at the default intervals, with inotify refused to it when asked. */
async function startAgent(t: TestContext, withoutInotify: boolean, prepare: (node: FakeNode) => void = () => {}): Promise<Agent> {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));
  prepare(node);
  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, ...DEFAULT_INTERVALS }, [], { withoutInotify });
  t.after(() => agent.kill9());
  await agent.httpPort(); // started: its first scan is done
  return { node, agent };
}

/** The agent warned that it cannot watch, so the test cannot pass with inotify working after all. */
function assertNoInotify(agent: AgentProcess): void {
  const warnings = agent.logs.filter((l) => String(l.msg).startsWith('file watches cannot be set up'));
  assert.equal(warnings.length, 1, 'one warning that watches cannot be set up');
  assert.equal(warnings[0]?.reason, 'EMFILE');
}

const LINES_PER_POD = 20;

/**
 * 40 pods, 5 a second, each writing 20 lines in two bursts 200 ms apart, its files removed
 * (pod folder and link) 0.5-2 s after its last line, as the kubelet does for finished Jobs.
 */
async function shortLivedPods(node: FakeNode, tag: string, pods = 40): Promise<string[]> {
  const names: string[] = [];
  const gone: Promise<void>[] = [];
  for (let i = 0; i < pods; i++) {
    const pod = `${tag}-${i}`;
    names.push(pod);
    const c = node.addContainer({ namespace: 'jobs', pod, container: 'job' });
    c.write(Array.from({ length: LINES_PER_POD / 2 }, (_, n) => `${pod} seq=${n}`));
    gone.push((async () => {
      await sleep(200);
      c.write(Array.from({ length: LINES_PER_POD / 2 }, (_, n) => `${pod} seq=${LINES_PER_POD / 2 + n}`));
      await sleep(500 + Math.random() * 1500);
      c.remove();
    })());
    await sleep(200);
  }
  await Promise.all(gone);
  return names;
}

/** Waits for every pod's lines (or gives up after a while), then checks each arrived exactly once. */
async function assertEveryPodLine(agent: AgentProcess, pods: readonly string[]): Promise<void> {
  const expected = pods.length * LINES_PER_POD;
  await agent.waitFor(`${expected} records`, () => agent.records.length >= expected, 20_000).catch(() => {});
  await sleep(300); // nothing more may come
  const counts = sequenceCounts(agent.records as Doc[], (r) => String(r.kubernetes?.pod_name));
  const wrong = pods.map((pod) => ({ pod, ...gaps(counts.get(pod), LINES_PER_POD) })).filter((g) => g.missing.length > 0 || g.repeated.length > 0);
  assert.deepEqual(wrong, [], `every line of every short-lived pod exactly once (${agent.records.length} of ${expected} records)`);
  assert.equal(agent.records.length, expected);
}

const ROTATE_BYTES = 512 * 1024;
const RATE = 2000;
const SECONDS = 8;

/**
 * A container writing 2,000 lines/s (about 200 bytes each, 20 lines every 10 ms), rotated by the
 * kubelet every 512 KiB (about every 1.3 s): each rotation gzips the previous rotated file, so
 * a rotated file not opened before the next rotation is lost.
 */
async function fastRotatingContainer(node: FakeNode): Promise<{ lines: number; rotations: number }> {
  const c = node.addContainer({ namespace: 'busy', pod: 'rotating', container: 'app' });
  const pad = 'x'.repeat(150);
  let seq = 0;
  let rotations = 0;
  let sinceRotation = 0;
  const started = Date.now();
  while (Date.now() - started < SECONDS * 1000) {
    // Catch up with the clock: the rate holds even when a timer fires late.
    const due = Math.min(RATE * SECONDS, Math.floor(((Date.now() - started) / 1000) * RATE));
    const lines: string[] = [];
    while (seq < due) lines.push(`seq=${seq++} ${pad}`);
    if (lines.length > 0) {
      c.write(lines);
      sinceRotation += lines.length * (lines[0]?.length ?? 0) + lines.length * 32;
    }
    if (sinceRotation >= ROTATE_BYTES) {
      c.rotate();
      rotations++;
      sinceRotation = 0;
    }
    await sleep(10);
  }
  return { lines: seq, rotations };
}

async function assertEveryRotatedLine(agent: AgentProcess, written: { lines: number; rotations: number }): Promise<void> {
  assert.ok(written.rotations >= 5, `rotations: ${written.rotations}`);
  await agent.waitFor(`${written.lines} records`, () => agent.records.length >= written.lines, 20_000).catch(() => {});
  await sleep(300);
  const { missing, repeated } = gaps(sequenceCounts(agent.records as Doc[], () => 'rotating').get('rotating'), written.lines);
  assert.deepEqual({ missing: missing.length, repeated: repeated.length, first: missing.slice(0, 5) }, { missing: 0, repeated: 0, first: [] },
    `every line once across ${written.rotations} rotations`);
  assert.equal(agent.records.length, written.lines);
}

describe('discovery within its bound at the default intervals', { concurrency: true }, () => {
  test('short-lived pods (5 a second, removed 0.5-2 s after their last line) with inotify unavailable to the agent', async (t) => {
    const { node, agent } = await startAgent(t, true);
    const pods = await shortLivedPods(node, 'noinotify');
    await assertEveryPodLine(agent, pods);
    assertNoInotify(agent);
  });

  test('short-lived pods with /var/log/containers a symlink to another disk', async (t) => {
    const { node, agent } = await startAgent(t, false, (n) => {
      const containers = join(n.root, 'var/log/containers');
      const elsewhere = join(n.root, 'mnt/disk2/containers');
      mkdirSync(join(elsewhere, '..'), { recursive: true });
      renameSync(containers, elsewhere);
      symlinkSync(elsewhere, containers);
    });
    await assertEveryPodLine(agent, await shortLivedPods(node, 'linked'));
  });

  test('short-lived pods after /var/log/containers was removed and recreated', async (t) => {
    const { node, agent } = await startAgent(t, false);
    const containers = join(node.root, 'var/log/containers');
    rmSync(containers, { recursive: true });
    mkdirSync(containers);
    await assertEveryPodLine(agent, await shortLivedPods(node, 'recreated'));
  });

  test('a container writing 2,000 lines/s, rotated every 512 KiB with gzip, with inotify', async (t) => {
    const { node, agent } = await startAgent(t, false);
    await assertEveryRotatedLine(agent, await fastRotatingContainer(node));
  });

  test('a container writing 2,000 lines/s, rotated every 512 KiB with gzip, with inotify unavailable to the agent', async (t) => {
    const { node, agent } = await startAgent(t, true);
    await assertEveryRotatedLine(agent, await fastRotatingContainer(node));
    assertNoInotify(agent);
  });
});
