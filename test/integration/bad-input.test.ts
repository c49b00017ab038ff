import assert from 'node:assert/strict';
import { chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { FakeNode } from '../support/fake-node.ts';

type Doc = Record<string, unknown> & { kubernetes?: { pod_name?: string } };

/**
 * A fake node and a state folder, removed after the test. The agent runs as root without the
 * capabilities that let root read any file (as the DaemonSet runs it), so mode 000 really stops a read.
 */
async function fakeNodeForUnreadableFiles(t: TestContext): Promise<{ node: FakeNode; state: Awaited<ReturnType<typeof tempStateDir>> }> {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));
  return { node, state };
}

test('bad input never stops the agent: every good line ships, each problem is flagged, counted and logged once', async (t) => {
  const { node, state } = await fakeNodeForUnreadableFiles(t);

  const good = node.addContainer({ namespace: 'ok', pod: 'good', container: 'app' });
  const cri = node.addContainer({ namespace: 'bad', pod: 'cri', container: 'app' });
  const docker = node.addContainer({ namespace: 'bad', pod: 'docker', container: 'app', format: 'docker' });
  const huge = node.addHostLog('huge.log');
  const secret = join(node.root, 'var/log/secret.log');
  writeFileSync(secret, 'never read\n', { mode: 0o000 });
  chmodSync(secret, 0o000);
  const loop = join(node.root, 'var/log/containers', `loop_bad_app-${'a'.repeat(64)}.log`);
  symlinkSync(`${loop}.2`, loop);
  symlinkSync(loop, `${loop}.2`);

  good.write(Array.from({ length: 100 }, (_, i) => `seq=${i}`));
  cri.write(['seq=0 valid']);
  cri.writeRaw('this is not a CRI line\n');
  cri.writeRaw(Buffer.concat([Buffer.from('2026-11-22T10:00:00.5Z stdout F seq=1 bad bytes '), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]));
  cri.writeRaw('2026-11-22T10:00:00.6Z stdout F seq=2 nul\0inside\n');
  cri.write(['seq=3 valid']);
  docker.write(['seq=0 valid']);
  docker.writeRaw('{"log":"seq=1 broken json\n');
  docker.write(['seq=2 valid']);
  huge.write(['seq=0 before']);
  // 10 MiB with no newline: held back (bounded) until its end comes, never blocking other files.
  for (let i = 0; i < 10; i++) writeFileSync(huge.path, 'H'.repeat(1 << 20), { flag: 'a' });

  // Rescans every 200 ms: a problem found again at each scan is still logged once.
  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, NODETAIL_RESCAN_INTERVAL_MS: '200' }, [], { withoutFileOverride: true });
  t.after(() => agent.kill9());
  const of = (pod: string) => (agent.records as Doc[]).filter((r) => r.kubernetes?.pod_name === pod);
  const host = () => (agent.records as Doc[]).filter((r) => r.path === huge.path);
  await agent.waitFor('the good lines', () => of('good').length === 100 && of('cri').length === 5 && of('docker').length === 3 && host().length === 1);

  writeFileSync(huge.path, '\nseq=1 after the huge line\n', { flag: 'a' });
  good.write(['seq=100']);
  await agent.waitFor('the end of the huge line', () => host().length === 3 && of('good').length === 101);
  await sleep(300);
  const port = await agent.httpPort();
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.equal((await agent.stop()).code, 0);

  assert.deepEqual(of('good').map((r) => r.log), Array.from({ length: 101 }, (_, i) => `seq=${i}`));
  assert.deepEqual(of('cri').map((r) => [r.log, r.decode_error]), [
    ['seq=0 valid', undefined],
    ['this is not a CRI line', 'malformed_cri'],
    ['seq=1 bad bytes \uFFFD\uFFFD', 'invalid_utf8'],
    ['seq=2 nul\0inside', undefined],
    ['seq=3 valid', undefined],
  ]);
  assert.deepEqual(of('docker').map((r) => [r.log, r.decode_error]), [
    ['seq=0 valid', undefined],
    ['{"log":"seq=1 broken json', 'malformed_docker'],
    ['seq=2 valid', undefined],
  ]);
  const [before, cut, after] = host();
  assert.equal(before?.log, 'seq=0 before');
  assert.equal(cut?.truncated, true);
  assert.equal(cut?.log, 'H'.repeat(256 * 1024));
  assert.equal(after?.log, 'seq=1 after the huge line');
  assert.equal(agent.records.some((r) => String(r.log).includes('never read')), false);

  // Each problem logged once, naming the file and the reason.
  const warned = (text: string, path: string) => agent.logs.filter((l) => String(l.msg).includes(text) && l.path === path);
  assert.equal(warned('cannot read file', secret).length, 1);
  assert.equal(warned('cannot read file', secret)[0]?.reason, 'EACCES');
  assert.equal(warned('symlink loop', loop).length, 1);
  assert.equal(warned('symlink loop', loop)[0]?.reason, 'ELOOP');
  const decodeWarnings = (pod: string) => agent.logs.filter((l) => String(l.msg).includes('does not match') && String(l.path).includes(`/bad_${pod}_`)).map((l) => l.reason).sort();
  assert.deepEqual(decodeWarnings('cri'), ['invalid_utf8', 'malformed_cri'], 'one line per file and reason');
  assert.equal(agent.logs.filter((l) => String(l.msg).includes('truncated') && l.path === huge.path).length, 1);
  // ...and counted.
  for (const problem of ['malformed_cri', 'malformed_docker', 'invalid_utf8', 'truncated', 'unreadable', 'symlink_loop']) {
    assert.match(metrics, new RegExp(`^nodetail_input_problems_total\\{[^}]*reason="${problem}"[^}]*\\} [1-9]`, 'm'), problem);
  }
});

test('a file that cannot be read is read once it becomes readable, and logged once meanwhile', async (t) => {
  const { node, state } = await fakeNodeForUnreadableFiles(t);
  const late = join(node.root, 'var/log/late.log');
  writeFileSync(late, 'seq=0 kept from us\nseq=1 still there\n', { mode: 0o000 });
  chmodSync(late, 0o000);

  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, NODETAIL_RESCAN_INTERVAL_MS: '200' }, [], { withoutFileOverride: true });
  t.after(() => agent.kill9());
  const warned = () => agent.logs.filter((l) => String(l.msg).includes('cannot read file') && l.path === late);
  await agent.waitFor('the warning', () => warned().length === 1);
  await sleep(1000); // five more scans find it unreadable again
  chmodSync(late, 0o644);
  await agent.waitFor('its lines', () => agent.records.filter((r) => r.path === late).length === 2);
  assert.equal((await agent.stop()).code, 0);

  assert.deepEqual(agent.records.filter((r) => r.path === late).map((r) => r.log), ['seq=0 kept from us', 'seq=1 still there']);
  assert.equal(warned().length, 1);
  assert.equal(warned()[0]?.reason, 'EACCES');
});
