import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { FakeNode } from '../support/fake-node.ts';

type Doc = Record<string, unknown> & { kubernetes?: { pod_name?: string } };
const ID = 'c'.repeat(64);

/**
 * Anyone who can write a link into a hostPath over /var/log must not make the agent ship what
 * the agent can read: a secret outside the log roots, /proc/self/environ (its own credentials),
 * its own state. Links into the kubelet's and docker's folders are still followed.
 */
test('links are followed only into the log roots: secrets, procfs, protected paths and chains that end outside are refused, counted and logged once', async (t) => {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  const outside = await mkdtemp(join(tmpdir(), 'nodetail-outside-'));
  t.after(() => Promise.all([node.remove(), state.remove(), rm(outside, { recursive: true, force: true })]));

  const containerd = node.addContainer({ namespace: 'shop', pod: 'web', container: 'app' });
  const docker = node.addContainer({ namespace: 'shop', pod: 'db', container: 'app', format: 'docker' });
  const host = node.addHostLog('syslog.log');
  containerd.write(['seq=0 containerd']);
  docker.write(['seq=0 docker']);
  host.write(['seq=0 host']);

  const secret = join(outside, 'password');
  writeFileSync(secret, 'S3cret-outside-the-roots\n');
  const containers = join(node.root, 'var/log/containers');
  const links = {
    // labelled as etcd by its name, leading to a secret
    secret: join(containers, `etcd-node_kube-system_etcd-${ID}.log`),
    environ: join(containers, `environ_kube-system_app-${ID}.log`),
    // containers link -> a link inside /var/log/pods -> a link outside -> the secret
    chain: join(containers, `chain_kube-system_app-${ID}.log`),
    // matched by the host glob /var/log/*.log
    hostGlob: join(node.root, 'var/log/evil.log'),
    state: join(node.root, 'var/log/state.log'),
  };
  symlinkSync(secret, links.secret);
  symlinkSync('/proc/self/environ', links.environ);
  const podDir = join(node.root, 'var/log/pods/kube-system_chain_0000/app');
  mkdirSync(podDir, { recursive: true });
  symlinkSync(join(outside, 'hop'), join(podDir, '0.log'));
  symlinkSync(secret, join(outside, 'hop'));
  symlinkSync(join(podDir, '0.log'), links.chain);
  symlinkSync(secret, links.hostGlob);
  writeFileSync(join(state.dir, 'planted.log'), 'S3cret-in-the-state-dir\n');
  symlinkSync(join(state.dir, 'planted.log'), links.state);
  // A FIFO matched by the host glob: never opened, so it never blocks the agent.
  const fifo = join(node.root, 'var/log/fifo.log');
  execFileSync('mkfifo', [fifo]);

  const agent = new AgentProcess({
    NODETAIL_PATHS: node.paths,
    NODETAIL_STATE_DIR: state.dir,
    NODETAIL_RESCAN_INTERVAL_MS: '200',
    ELASTICSEARCH_PASSWORD: 'S3cret-in-the-environment',
  });
  t.after(() => agent.kill9());
  const logs = (pod: string) => (agent.records as Doc[]).filter((r) => r.kubernetes?.pod_name === pod).map((r) => r.log);
  await agent.waitFor('the legitimate lines', () => logs('web').length === 1 && logs('db').length === 1 && agent.records.some((r) => r.path === host.path));
  // Containers started later are found by rescans, each of which meets the refused links again.
  for (const pod of ['later-1', 'later-2']) {
    node.addContainer({ namespace: 'shop', pod, container: 'app' }).write([`seq=0 ${pod}`]);
    await agent.waitFor(pod, () => logs(pod).length === 1);
  }
  const port = await agent.httpPort();
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.equal((await agent.stop()).code, 0);

  assert.deepEqual(agent.records.map((r) => r.log).sort(), ['seq=0 containerd', 'seq=0 docker', 'seq=0 host', 'seq=0 later-1', 'seq=0 later-2']);
  const shipped = JSON.stringify(agent.records);
  for (const text of ['S3cret', 'etcd', 'chain', 'environ']) assert.equal(shipped.includes(text), false, text);

  const refused = agent.logs.filter((l) => l.msg === 'file refused: it is not a log file of this node (skipped, and never read while it leads there)');
  assert.deepEqual(refused.map((l) => [l.path, l.reason]).sort(), [
    [links.chain, 'outside_log_roots'],
    [links.environ, 'special_file'],
    [links.secret, 'outside_log_roots'],
    [links.hostGlob, 'outside_log_roots'],
    [links.state, 'protected_path'],
    [fifo, 'special_file'],
  ].sort(), 'each refused path logged once, with its reason');
  assert.equal(refused.find((l) => l.path === links.secret)?.real, secret);

  const counted = (source: string, reason: string) => Number(new RegExp(`^nodetail_input_problems_total\\{source="${source}",reason="${reason}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
  assert.equal(counted('containers', 'outside_log_roots'), 2);
  assert.equal(counted('containers', 'special_file'), 1);
  assert.equal(counted('host', 'outside_log_roots'), 1);
  assert.equal(counted('host', 'protected_path'), 1);
  assert.equal(counted('host', 'special_file'), 1);
});
