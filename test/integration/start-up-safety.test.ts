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
