/**
 * Issue 19: a write block an operator set on the index (403 cluster_block_exception) seen from
 * outside the real agent: /readyz names the index and the fix, the metric counts it, records wait
 * on disk, and the agent picks up by itself once the block is lifted.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { startFakeElasticsearch } from '../support/fake-elasticsearch.ts';
import { FakeNode } from '../support/fake-node.ts';
import { until } from '../support/until.ts';
import { parseFamilies, valueOf } from '../unit/telemetry/prometheus-text.ts';

test('a 403 write block: /readyz and nodetail_output_errors_total name it, nothing is dropped, delivery resumes when it is lifted', { timeout: 40_000 }, async (t) => {
  const node = await FakeNode.create();
  const es = await startFakeElasticsearch({ indexBlocks: { 'logstash-2024.03.05': 'write' } });
  const state = await tempStateDir();
  t.after(async () => {
    await es.close();
    await state.remove();
    await node.remove();
  });
  const app = node.addContainer({ namespace: 'shop', pod: 'web-1', container: 'app' });
  app.write(['blocked seq=0', 'blocked seq=1'], 'stdout', new Date('2024-03-05T10:00:00.000Z'));
  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, ELASTICSEARCH_URL: es.url, NODETAIL_RETRY_MAX_BACKOFF_MS: '300', NODETAIL_HTTP_PORT: '0' });
  t.after(() => agent.kill9());
  const port = (await until('the start-up line', () => agent.logs.find((l) => l.msg === 'nodetail started'), 20_000, agent)).httpPort as number;
  const blocked = await until('the block in the self-log', () => agent.logs.find((l) => String(l.msg).includes('has a write block')), 20_000, agent);
  assert.equal(blocked.level, 'error');
  assert.equal(blocked.index, 'logstash-2024.03.05');

  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(await ready.text(), 'not ready:\n- output elasticsearch: index logstash-2024.03.05 refuses writes (index.blocks.write); an operator must remove it (PUT logstash-2024.03.05/_settings {"index.blocks.write": null}), or roll its data stream over or change the ILM phase that set it\n');
  const metrics = parseFamilies(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  assert.ok(valueOf(metrics, 'nodetail_output_errors_total', { reason: 'index_blocked' }) >= 1);
  assert.equal(es.count(), 0);
  assert.equal(existsSync(join(state.dir, 'dead-letters.ndjson')), false);

  es.configure({ indexBlocks: {} });
  await until('both records', () => (es.count() === 2 ? true : undefined), 20_000, agent);
  await until('ready again', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined), 10_000, agent);
  assert.ok(agent.logs.some((l) => l.msg === 'Elasticsearch output: the write block is gone; records flow again'));
  assert.deepEqual(await agent.stop(), { code: 0, signal: null });
});
