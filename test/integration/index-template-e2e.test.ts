/**
 * Issue 19: the index template nodetail installs agrees with the documents of its schema. The real
 * agent installs it on the fake Elasticsearch, which then enforces its mappings as a real cluster
 * does; every kind of document the schema writes (container and host lines, a truncated record,
 * a line that did not decode) must be indexed, none dead-lettered.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { startFakeElasticsearch } from '../support/fake-elasticsearch.ts';
import { FakeNode } from '../support/fake-node.ts';
import { until } from '../support/until.ts';

for (const schema of ['fluentd', 'ecs'] as const) {
  for (const flavour of ['elasticsearch-7.17', 'elasticsearch-9'] as const) {
    test(`${schema} schema on ${flavour}: with install_template, every kind of document fits the template's mappings`, { timeout: 40_000 }, async (t) => {
      const node = await FakeNode.create();
      const es = await startFakeElasticsearch({ flavour });
      const state = await tempStateDir();
      t.after(async () => {
        await es.close();
        await state.remove();
        await node.remove();
      });
      const app = node.addContainer({ namespace: 'shop', pod: 'web-1', container: 'app', uid: 'web-uid', id: 'c'.repeat(64) });
      const host = node.addHostLog('kubelet.log');
      app.write(['plain line seq=0'], 'stdout', new Date('2024-03-05T10:00:00.000Z'));
      app.writeRaw('not a CRI line seq=1\n');
      app.write([`long line seq=2 ${'x'.repeat(2000)}`], 'stderr', new Date('2024-03-05T10:00:01.000Z'));
      host.write(['host line seq=3']);
      const agent = new AgentProcess({
        NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, ELASTICSEARCH_URL: es.url, NODETAIL_SCHEMA: schema,
        NODETAIL_INSTALL_TEMPLATE: 'true', NODETAIL_MAX_RECORD_BYTES: '1KiB', NODETAIL_RETRY_MAX_BACKOFF_MS: '300',
      });
      t.after(() => agent.kill9());
      await until('four answered items', () => {
        const s = es.stats().itemStatuses;
        return Object.values(s).reduce((a, b) => a + b, 0) >= 4 ? true : undefined;
      }, 30_000, agent);
      assert.deepEqual(await agent.stop(), { code: 0, signal: null });
      assert.deepEqual(es.stats().itemStatuses, { 201: 4 }, JSON.stringify(agent.logs.filter((l) => l.level !== 30)));
      assert.equal(existsSync(join(state.dir, 'dead-letters.ndjson')), false);
      const template = [...es.templates().keys()];
      assert.deepEqual(template, ['nodetail-logstash']);
      const docs = es.docs().map((d) => d.doc as Record<string, unknown>);
      const text = (d: Record<string, unknown>) => String(schema === 'ecs' ? d.message : d.log);
      const bySeq = (n: number) => docs.find((d) => text(d).includes(`seq=${n}`)) as Record<string, unknown>;
      // The documents that carry the fields the template types: the flags of a truncated or undecoded record.
      if (schema === 'ecs') {
        assert.deepEqual(bySeq(1).error, { type: 'malformed_cri' });
        assert.deepEqual((bySeq(2).log as { flags?: unknown }).flags, ['truncated']);
        assert.deepEqual(bySeq(3).log, { file: { path: host.path } });
        assert.equal(es.mappingOf(es.docs()[0]?.index ?? '', 'log.file.path'), 'keyword');
      } else {
        assert.equal(bySeq(1).decode_error, 'malformed_cri');
        assert.equal(bySeq(2).truncated, true);
        assert.deepEqual([bySeq(3).host, bySeq(3).path], ['test-node', host.path]);
        assert.equal(es.mappingOf(es.docs()[0]?.index ?? '', 'log'), 'text');
      }
    });
  }
}
