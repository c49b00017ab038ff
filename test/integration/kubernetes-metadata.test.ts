import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { FakeKubeApi } from '../support/fake-kube-api.ts';
import { FakeNode } from '../support/fake-node.ts';
import type { FakeContainer } from '../support/fake-node.ts';

type Doc = Record<string, unknown> & { log?: string; kubernetes?: Record<string, unknown> };

const NODE = 'test-node'; // FAST_ENV's NODE_NAME
const TOKEN = 'integration-token-5e2b';

/** A fake node, a state dir, a token file and a fake API holding the `shop` namespace; `env` is added to the agent's. */
async function setup(t: TestContext, env: Record<string, string> = {}) {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));
  const tokenFile = join(state.dir, 'token');
  await writeFile(tokenFile, TOKEN);
  const api = await FakeKubeApi.start({ token: TOKEN });
  t.after(() => api.close());
  api.putNamespace(FakeKubeApi.namespace('shop', { team: 'payments' }));
  const startAgent = () => {
    const agent = new AgentProcess({
      NODETAIL_PATHS: node.paths,
      NODETAIL_STATE_DIR: state.dir,
      NODETAIL_KUBERNETES_METADATA: 'on',
      NODETAIL_KUBERNETES_URL: api.url,
      NODETAIL_KUBERNETES_TOKEN_FILE: tokenFile,
      ...env,
    });
    t.after(() => agent.kill9());
    return agent;
  };
  return { node, api, startAgent };
}

/** The pod the API knows for a container of the fake node (same namespace, name and uid). */
function podOf(container: FakeContainer, extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}) {
  const { namespace, pod, uid, id, container: name } = container.spec;
  return FakeKubeApi.pod({
    namespace, name: pod, uid, nodeName: NODE, ...extra,
    owner: { kind: 'ReplicaSet', name: `${pod.split('-')[0]}-7d9f8b6c5d` },
    containers: [{ name, image: `shop/${name}:1.4`, containerId: `containerd://${id}`, imageId: `docker.io/shop/${name}@sha256:abcd` }],
  });
}

const lines = (tag: string, from: number, n: number) => Array.from({ length: n }, (_, i) => `${tag} seq=${from + i}`);
const recordsOf = (agent: AgentProcess, tag: string) => (agent.records as Doc[]).filter((doc) => String(doc.log).startsWith(`${tag} `));

/**
 * The container keeps logging a line every 50 ms: the first record written once its pod reached
 * the agent's cache carries labels. Fails when none has within `boundMs`.
 */
async function keepLoggingUntilLabelled(agent: AgentProcess, container: FakeContainer, tag: string, fromSeq: number, boundMs: number): Promise<Doc> {
  const deadline = Date.now() + boundMs;
  for (let seq = fromSeq; ; seq++) {
    const labelled = recordsOf(agent, tag).find((doc) => doc.kubernetes?.labels !== undefined);
    if (labelled !== undefined) return labelled;
    assert.ok(Date.now() < deadline, `${tag}: a record with the pod's labels within ${boundMs} ms`);
    container.write(lines(tag, seq, 1));
    await sleep(50);
  }
}

test('records gain pod metadata; a pod created after its first lines gets it within a bound; excluded pods are not shipped', async (t) => {
  const { node, api, startAgent } = await setup(t);
  const web = node.addContainer({ namespace: 'shop', pod: 'web-7d9f8b6c5d-x2x9q', container: 'nginx' });
  const noisy = node.addContainer({ namespace: 'shop', pod: 'noisy-7d9f8b6c5d-q8w7e', container: 'spam' });
  const late = node.addContainer({ namespace: 'shop', pod: 'late-7d9f8b6c5d-m4n5b', container: 'worker' });
  api.putPod(podOf(web, { labels: { app: 'web', 'app.kubernetes.io/name': 'web' }, annotations: { 'prometheus.io/scrape': 'true' } }));
  api.putPod(podOf(noisy, { annotations: { 'nodetail.io/exclude': 'true' } }));

  const agent = startAgent();
  // Once the watch is open the list has been applied; lines written from now on find their pod.
  await agent.waitFor('the pod watch', () => api.watching('pods') === 1);
  web.write(lines('web', 0, 20));
  noisy.write(lines('noisy', 0, 20));
  late.write(lines('late', 0, 1));
  await agent.waitFor('web and late records', () => recordsOf(agent, 'web').length === 20 && recordsOf(agent, 'late').length === 1);

  assert.deepEqual(recordsOf(agent, 'web')[0]?.kubernetes, {
    namespace_name: 'shop',
    pod_name: 'web-7d9f8b6c5d-x2x9q',
    pod_id: web.spec.uid,
    container_name: 'nginx',
    container_image: 'shop/nginx:1.4',
    container_image_id: 'docker.io/shop/nginx@sha256:abcd',
    restart_count: 0,
    host: NODE,
    labels: { app: 'web', 'app_kubernetes_io/name': 'web' },
    annotations: { 'prometheus_io/scrape': 'true' },
    namespace_labels: { 'kubernetes_io/metadata_name': 'shop', team: 'payments' },
    owner: { kind: 'Deployment', name: 'web' },
  });
  const first = recordsOf(agent, 'late')[0];
  assert.equal(first?.kubernetes?.labels, undefined, 'not known yet: path metadata only');
  assert.equal(first?.kubernetes?.pod_name, 'late-7d9f8b6c5d-m4n5b');

  api.putPod(podOf(late, { labels: { app: 'late' } }));
  const labelled = await keepLoggingUntilLabelled(agent, late, 'late', 1, 5000);
  assert.deepEqual(labelled.kubernetes?.labels, { app: 'late' });
  assert.deepEqual(labelled.kubernetes?.owner, { kind: 'Deployment', name: 'late' });

  await sleep(300); // the excluded pod's lines had as long as the others to show up
  assert.equal(recordsOf(agent, 'noisy').length, 0, 'an excluded pod is not shipped');
  assert.ok(!JSON.stringify(agent.logs).includes(TOKEN), 'the token is in no log line');
  assert.equal((await agent.stop()).code, 0);
});

test('with the API down, records still ship with their path metadata; once it is up they gain labels', async (t) => {
  const { node, api, startAgent } = await setup(t);
  const web = node.addContainer({ namespace: 'shop', pod: 'web-7d9f8b6c5d-x2x9q', container: 'nginx' });
  api.putPod(podOf(web, { labels: { app: 'web' } }));
  await api.stop();

  const agent = startAgent();
  web.write(lines('web', 0, 50));
  await agent.waitFor('50 records', () => recordsOf(agent, 'web').length === 50, 10_000);
  assert.deepEqual(recordsOf(agent, 'web')[49]?.kubernetes, {
    namespace_name: 'shop',
    pod_name: 'web-7d9f8b6c5d-x2x9q',
    pod_id: web.spec.uid,
    container_name: 'nginx',
    restart_count: 0,
    host: NODE,
  });

  await api.resume();
  const labelled = await keepLoggingUntilLabelled(agent, web, 'web', 50, 10_000);
  assert.deepEqual(labelled.kubernetes?.labels, { app: 'web' });
  assert.equal((await agent.stop()).code, 0);
});

/** The config hash kubelet names a static pod's log folder with. */
const ETCD_HASH = '3f1e2d4c5b6a7f8e9d0c1b2a3f4e5d6c';
const logsOf = (agent: AgentProcess, pod: string) => (agent.records as Doc[]).filter((d) => d.kubernetes?.pod_name === pod);

test('a tenant pod claiming a static pod\'s config hash neither hides its logs nor lends it its labels', async (t) => {
  const { node, api, startAgent } = await setup(t);
  const etcd = node.addContainer({ namespace: 'kube-system', pod: `etcd-${NODE}`, container: 'etcd', uid: ETCD_HASH });
  api.putPod(FakeKubeApi.pod({
    namespace: 'shop', name: 'hide-etcd', nodeName: NODE, labels: { app: 'tenant' }, owner: { kind: 'Node', name: NODE },
    annotations: { 'kubernetes.io/config.mirror': ETCD_HASH, 'nodetail.io/exclude': 'true' },
  }));
  const agent = startAgent();
  await agent.waitFor('the pod watch', () => api.watching('pods') === 1);
  etcd.write(['seq=0 etcd is the cluster\'s memory']);
  await agent.waitFor('etcd\'s line', () => logsOf(agent, `etcd-${NODE}`).length === 1);
  assert.equal((await agent.stop()).code, 0);
  const [doc] = logsOf(agent, `etcd-${NODE}`);
  assert.equal(doc?.kubernetes?.namespace_name, 'kube-system');
  assert.equal(doc?.kubernetes?.labels, undefined, 'no labels taken from the tenant\'s pod');
});

test('honor_exclude_annotations false ships a pod annotated nodetail.io/exclude', async (t) => {
  const { node, api, startAgent } = await setup(t, { NODETAIL_HONOR_EXCLUDE_ANNOTATIONS: 'false' });
  const quiet = node.addContainer({ namespace: 'shop', pod: 'quiet-7d9f8b6c5d-q8w7e', container: 'app' });
  const { namespace, pod, uid } = quiet.spec;
  api.putPod(FakeKubeApi.pod({ namespace, name: pod, uid, nodeName: NODE, labels: { app: 'quiet' }, annotations: { 'nodetail.io/exclude': 'true' } }));
  const agent = startAgent();
  await agent.waitFor('the pod watch', () => api.watching('pods') === 1);
  quiet.write(['seq=0 would have been left out']);
  await agent.waitFor('the line', () => logsOf(agent, pod).length === 1);
  assert.equal((await agent.stop()).code, 0);
  // The pod was known (its labels are on the record) and still shipped.
  assert.deepEqual(logsOf(agent, pod).map((d) => [d.log, d.kubernetes?.labels]), [['seq=0 would have been left out', { app: 'quiet' }]]);
});
