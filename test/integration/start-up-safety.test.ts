import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { FakeNode } from '../support/fake-node.ts';
import { until } from '../support/until.ts';

/** What the agent wrote that is not a JSON self-log line (its start-up refusals on stderr). */
const unparsed = (agent: AgentProcess): string => agent.logs.map((l) => l.unparsed).filter((u) => u !== undefined).join('\n');

/** A fake node with one container line, and a state dir, removed after the test. */
async function nodeWithOneLine(t: TestContext): Promise<{ node: FakeNode; state: { dir: string } }> {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));
  node.addContainer({ namespace: 'shop', pod: 'web', container: 'app' }).write(['seq=0']);
  return { node, state };
}

test('inside a cluster with no Elasticsearch URL the agent refuses to start (exit 2, naming elasticsearch_url) and reads nothing', async (t) => {
  const { node, state } = await nodeWithOneLine(t);

  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' });
  t.after(() => agent.kill9());
  assert.equal(await until('the agent to exit', () => agent.child.exitCode ?? undefined), 2);
  assert.match(unparsed(agent), /^nodetail: configuration: elasticsearch_url: not set, inside a Kubernetes cluster/m);
  assert.deepEqual(agent.records, []);
});

test('inside a cluster, output stdout chosen on purpose prints the records', async (t) => {
  const { node, state } = await nodeWithOneLine(t);

  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, KUBERNETES_SERVICE_HOST: '10.96.0.1', NODETAIL_OUTPUT: 'stdout' });
  t.after(() => agent.kill9());
  await agent.waitFor('the record', () => agent.records.length === 1);
  assert.equal((await agent.stop()).code, 0);
  assert.deepEqual(agent.records.map((r) => r.log), ['seq=0']);
});

test('TLS verification off and credentials over plain http are announced: a warning naming the hosts, the start line, a gauge', async (t) => {
  const { node, state } = await nodeWithOneLine(t);
  const agent = new AgentProcess({
    NODETAIL_PATHS: node.paths,
    NODETAIL_STATE_DIR: state.dir,
    // as copied from a fluentd-kubernetes-daemonset manifest
    ELASTICSEARCH_URL: 'https://127.0.0.1:1,http://localhost:2/es',
    FLUENT_ELASTICSEARCH_SSL_VERIFY: 'false',
    ELASTICSEARCH_USERNAME: 'elastic',
    ELASTICSEARCH_PASSWORD: 'S3cret-password',
  });
  t.after(() => agent.kill9());
  const port = await agent.httpPort();
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.equal((await agent.stop()).code, 0);

  const warning = (setting: string) => agent.logs.find((l) => l.level === 'warn' && l.setting === setting);
  assert.deepEqual(warning('tls_verify_off')?.hosts, ['https://127.0.0.1:1']);
  assert.match(String(warning('tls_verify_off')?.msg), /NOT verified/);
  assert.deepEqual(warning('credentials_over_http')?.hosts, ['http://localhost:2']);
  assert.deepEqual(agent.logs.find((l) => l.msg === 'nodetail started')?.unsafeSettings, ['tls_verify_off', 'credentials_over_http']);
  assert.match(metrics, /^nodetail_unsafe_setting\{setting="tls_verify_off"\} 1$/m);
  assert.match(metrics, /^nodetail_unsafe_setting\{setting="credentials_over_http"\} 1$/m);
  assert.equal(JSON.stringify(agent.logs).includes('S3cret-password'), false);
});

test('safe settings announce nothing, and the gauge says 0', async (t) => {
  const { node, state } = await nodeWithOneLine(t);
  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, ELASTICSEARCH_URL: 'https://127.0.0.1:1', ELASTICSEARCH_USERNAME: 'elastic', ELASTICSEARCH_PASSWORD: 'S3cret-password' });
  t.after(() => agent.kill9());
  const port = await agent.httpPort();
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.equal((await agent.stop()).code, 0);
  assert.equal(agent.logs.some((l) => l.setting !== undefined), false);
  assert.deepEqual(agent.logs.find((l) => l.msg === 'nodetail started')?.unsafeSettings, []);
  assert.match(metrics, /^nodetail_unsafe_setting\{setting="tls_verify_off"\} 0$/m);
  assert.match(metrics, /^nodetail_unsafe_setting\{setting="credentials_over_http"\} 0$/m);
});

test('a misspelt NODETAIL_ variable is named with the nearest setting, and Fluentd variables with no effect in one warning', async (t) => {
  const { node, state } = await nodeWithOneLine(t);
  const agent = new AgentProcess({
    NODETAIL_PATHS: node.paths,
    NODETAIL_STATE_DIR: state.dir,
    NODETAIL_ELASTICSEARCH_URLS: 'http://127.0.0.1:1',
    FLUENT_ELASTICSEARCH_SSL_VERSION: 'TLSv1_2',
    FLUENT_ELASTICSEARCH_RELOAD_CONNECTIONS: 'false',
    FLUENT_ELASTICSEARCH_LOGSTASH_PREFIX: 'k8s',
  });
  t.after(() => agent.kill9());
  await agent.waitFor('the record', () => agent.records.length === 1);
  assert.equal((await agent.stop()).code, 0);

  const warned = agent.logs.filter((l) => l.level === 'warn');
  assert.deepEqual(warned.filter((l) => l.variable !== undefined).map((l) => [l.variable, l.nearest, l.msg]), [
    ['NODETAIL_ELASTICSEARCH_URLS', 'NODETAIL_ELASTICSEARCH_URL', 'unknown variable NODETAIL_ELASTICSEARCH_URLS: ignored (nearest setting: NODETAIL_ELASTICSEARCH_URL, key elasticsearch_url)'],
  ]);
  assert.deepEqual(warned.filter((l) => l.variables !== undefined).map((l) => l.variables), [['FLUENT_ELASTICSEARCH_RELOAD_CONNECTIONS', 'FLUENT_ELASTICSEARCH_SSL_VERSION']]);
});
