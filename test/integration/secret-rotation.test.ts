import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { startFakeElasticsearch } from '../support/fake-elasticsearch.ts';
import { FakeNode } from '../support/fake-node.ts';
import { until } from '../support/until.ts';

/**
 * A mounted Secret is updated in place by the kubelet when it is rotated: the agent reads the
 * password or API key file again after Elasticsearch refused it, and ships without a restart.
 */
for (const kind of ['password', 'api key'] as const) {
  test(`a rotated ${kind} file is read again after a 401, and delivery resumes without a restart`, async (t) => {
    const es = await startFakeElasticsearch({ auth: kind === 'password' ? { username: 'elastic', password: 'N3w-Passw0rd' } : { apiKey: 'TjN3LWtleQ==' } });
    const node = await FakeNode.create();
    const state = await tempStateDir();
    t.after(() => Promise.all([es.close(), node.remove(), state.remove()]));
    const secretFile = join(state.dir, 'mounted-secret');
    writeFileSync(secretFile, kind === 'password' ? 'Old-Passw0rd\n' : 'T2xkLWtleQ==\n');
    node.addContainer({ namespace: 'shop', pod: 'web', container: 'app' }).write(['seq=0']);

    const agent = new AgentProcess({
      NODETAIL_PATHS: node.paths,
      NODETAIL_STATE_DIR: state.dir,
      ELASTICSEARCH_URL: es.url,
      NODETAIL_RETRY_MAX_BACKOFF_MS: '200',
      ...(kind === 'password' ? { ELASTICSEARCH_USERNAME: 'elastic', NODETAIL_ELASTICSEARCH_PASSWORD_FILE: secretFile } : { NODETAIL_ELASTICSEARCH_API_KEY_FILE: secretFile }),
    });
    t.after(() => agent.kill9());
    await until('the refusal', () => agent.logs.find((l) => String(l.msg).includes('refused the credentials')), 20_000, agent);
    writeFileSync(secretFile, kind === 'password' ? 'N3w-Passw0rd\n' : 'TjN3LWtleQ==\n');
    await until('the record stored', () => (es.count() === 1 ? true : undefined), 20_000, agent);
    assert.equal((await agent.stop()).code, 0);
    assert.deepEqual(es.docs().map((d) => (d.doc as { log: string }).log), ['seq=0']);
  });
}
