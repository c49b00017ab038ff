import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentProcess, gaps, sequenceCounts, tempStateDir } from '../support/agent-process.ts';
import { FakeNode } from '../support/fake-node.ts';

type Doc = Record<string, unknown> & { kubernetes?: Record<string, unknown>; docker?: { container_id: string } };

test('every line of a node (containerd, CRI-O, docker, host logs) arrives exactly once with its metadata', async (t) => {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));

  const containerd = node.addContainer({ namespace: 'shop', pod: 'web-7d9f-abcde', container: 'nginx', format: 'containerd' });
  const crio = node.addContainer({ namespace: 'shop', pod: 'db-0', container: 'postgres', format: 'crio' });
  const docker = node.addContainer({ namespace: 'kube-system', pod: 'dns-1', container: 'coredns', format: 'docker' });
  const syslog = node.addHostLog('syslog.log');
  const long = 'L'.repeat(40_000) + ' é€😀 tail'; // three CRI partials / docker 16 KiB chunks
  const seqs = (from: number, n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} seq=${from + i}`);

  // Written before the agent starts (read_from=head) and while it runs (new data followed).
  for (const c of [containerd, crio, docker]) c.write(seqs(0, 500, c.spec.container));
  syslog.write(seqs(0, 100, 'kernel: host'));
  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir });
  t.after(() => agent.kill9());
  for (const c of [containerd, crio, docker]) {
    c.write(seqs(500, 500, c.spec.container), 'stderr');
    c.write([`${c.spec.container} seq=1000 ${long}`]);
  }
  syslog.write(seqs(100, 100, 'kernel: host'));

  const total = 3 * 1001 + 200;
  await agent.waitFor(`${total} records`, () => agent.records.length >= total);
  await new Promise((r) => setTimeout(r, 300)); // nothing more may come
  assert.equal((await agent.stop()).code, 0);
  assert.equal(agent.records.length, total);

  const docs = agent.records as Doc[];
  const counts = sequenceCounts(docs, (r) => String(r.kubernetes?.container_name ?? r.path));
  for (const c of [containerd, crio, docker]) assert.deepEqual(gaps(counts.get(c.spec.container), 1001), { missing: [], repeated: [] }, c.spec.container);
  assert.deepEqual(gaps(counts.get(syslog.path), 200), { missing: [], repeated: [] });

  for (const c of [containerd, crio, docker]) {
    const mine = docs.filter((d) => d.kubernetes?.container_name === c.spec.container);
    assert.deepEqual(mine[0]?.kubernetes, {
      namespace_name: c.spec.namespace,
      pod_name: c.spec.pod,
      pod_id: c.spec.uid,
      container_name: c.spec.container,
      restart_count: 0,
      host: 'test-node',
    });
    assert.deepEqual(mine[0]?.docker, { container_id: c.spec.id });
    assert.equal(mine[0]?.stream, 'stdout');
    assert.equal(mine[600]?.stream, 'stderr');
    assert.equal(mine.filter((d) => d.stream === 'stderr').length, 500);
    const joined = mine.find((d) => String(d.log).includes('seq=1000 '));
    assert.equal(joined?.log, `${c.spec.container} seq=1000 ${long}`, `${c.spec.container}: partials joined into one record`);
    assert.equal(joined?.truncated, undefined);
    assert.match(String(mine[0]?.['@timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$/);
  }
  const host = docs.find((d) => d.path === syslog.path);
  assert.equal(host?.log, 'kernel: host seq=0');
  assert.equal(host?.host, 'test-node');
  assert.equal(host?.kubernetes, undefined);
});

test('a restart resumes exactly at the checkpoint: nothing again, nothing missed', async (t) => {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));
  const c = node.addContainer({ namespace: 'ns', pod: 'p', container: 'app' });
  c.write(Array.from({ length: 300 }, (_, i) => `seq=${i}`));

  const first = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir });
  await first.waitFor('300 records', () => first.records.length >= 300);
  assert.equal((await first.stop()).code, 0);

  c.write(Array.from({ length: 200 }, (_, i) => `seq=${300 + i}`));
  const second = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir });
  t.after(() => second.kill9());
  await second.waitFor('200 records', () => second.records.length >= 200);
  await new Promise((r) => setTimeout(r, 300));
  await second.stop();
  assert.deepEqual(second.records.map((r) => r.log), Array.from({ length: 200 }, (_, i) => `seq=${300 + i}`));
});

test('read_from=tail skips what was there at the first start, and reads files created later whole', async (t) => {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));
  const old = node.addContainer({ namespace: 'ns', pod: 'old', container: 'app' });
  old.write(['seq=0 before start']);
  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, NODETAIL_READ_FROM: 'tail' });
  t.after(() => agent.kill9());
  await agent.httpPort();
  await new Promise((r) => setTimeout(r, 300));
  old.write(['seq=1 after start']);
  const fresh = node.addContainer({ namespace: 'ns', pod: 'new', container: 'app' });
  fresh.write(['seq=0 new file']);
  await agent.waitFor('2 records', () => agent.records.length >= 2);
  await new Promise((r) => setTimeout(r, 300));
  await agent.stop();
  assert.deepEqual(agent.records.map((r) => r.log).sort(), ['seq=0 new file', 'seq=1 after start']);
});
