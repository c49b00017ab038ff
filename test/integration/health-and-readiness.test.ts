/**
 * /readyz reports an output that answers but refuses to store (a cluster block, every item 429,
 * a proxy answering 502), and /healthz stays 200 meanwhile: the liveness probe must not restart
 * healthy agents in the middle of an Elasticsearch incident. Once the output stores again, every
 * line is there once. (Before: /readyz stayed 200 throughout, and /healthz failed after 5 minutes.)
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { AgentProcess, gaps, sequenceCounts, tempStateDir } from '../support/agent-process.ts';
import { startFakeElasticsearch, type FakeElasticsearch } from '../support/fake-elasticsearch.ts';
import { FakeNode } from '../support/fake-node.ts';
import { until } from '../support/until.ts';

const seqs = (from: number, n: number) => Array.from({ length: n }, (_, i) => `line seq=${from + i}`);

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** A reverse proxy in front of the fake Elasticsearch that can be made to answer 502 to everything. */
async function startProxy(t: TestContext, target: string): Promise<{ url: string; broken: { on: boolean } }> {
  const broken = { on: false };
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    if (broken.on) {
      req.resume();
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>');
      return;
    }
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  t.after(() => server.closeAllConnections());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, broken };
}

async function refusalScenario(t: TestContext, refuse: (es: FakeElasticsearch) => Promise<{ url: string; start: () => void; stop: () => void }>): Promise<void> {
  const es = await startFakeElasticsearch();
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([es.close(), node.remove(), state.remove()]));
  const fault = await refuse(es);
  const app = node.addContainer({ namespace: 'incident', pod: 'app', container: 'main' });
  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, ELASTICSEARCH_URL: fault.url, NODETAIL_RETRY_MAX_BACKOFF_MS: '200' });
  t.after(() => agent.kill9());
  const port = await agent.httpPort();
  app.write(seqs(0, 50));
  await until('50 documents', () => (es.count() === 50 ? true : undefined), 20_000, agent);
  await until('ready', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined), 20_000, agent);

  fault.start();
  app.write(seqs(50, 50));
  const unready = await until('/readyz to report the refusal', async () => {
    const answer = await get(port, '/readyz');
    return answer.status === 503 ? answer : undefined;
  }, 20_000, agent);
  assert.match(unready.body, /^not ready:\n- output elasticsearch/);
  assert.equal((await get(port, '/healthz')).status, 200, 'alive: the output refuses, the agent is fine');

  fault.stop();
  await until('100 documents', () => (es.count() === 100 ? true : undefined), 30_000, agent);
  await until('ready again', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined), 20_000, agent);
  assert.equal((await get(port, '/healthz')).status, 200);
  assert.equal((await agent.stop()).code, 0);
  const docs = es.docs().map((d) => d.doc as Record<string, unknown>);
  assert.deepEqual(gaps(sequenceCounts(docs, () => 'app').get('app'), 100), { missing: [], repeated: [] });
}

describe('/readyz reports an output that refuses to store; /healthz stays up', { concurrency: true }, () => {
  test('a cluster block (flood-stage disk) on every request', (t) =>
    refusalScenario(t, async (es) => ({ url: es.url, start: () => es.configure({ clusterBlock: 'request' }), stop: () => es.configure({ clusterBlock: undefined }) })));

  test('every item answered 429', (t) =>
    refusalScenario(t, async (es) => ({ url: es.url, start: () => es.configure({ itemRejectRate: 1 }), stop: () => es.configure({ itemRejectRate: 0 }) })));

  test('a proxy in front of Elasticsearch answering 502', (t) =>
    refusalScenario(t, async (es) => {
      const proxy = await startProxy(t, es.url);
      return { url: proxy.url, start: () => (proxy.broken.on = true), stop: () => (proxy.broken.on = false) };
    }));
});
