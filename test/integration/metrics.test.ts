/**
 * The real agent as a child process, scraped over HTTP while it ships a fake node's logs: the
 * counters on /metrics (read by a real Prometheus text parser) must equal what was written and
 * what the output received, /healthz must stay healthy, /readyz must follow the output, and
 * every answer must come within a bound while the pipeline is busy.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pkg from '../../package.json' with { type: 'json' };
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { startFakeElasticsearch } from '../support/fake-elasticsearch.ts';
import { FakeNode } from '../support/fake-node.ts';
import { parseFamilies, valueOf, type Families } from '../unit/telemetry/prometheus-text.ts';
import { until } from '../support/until.ts';

/** Slowest acceptable answer from the agent's HTTP port on a busy 2-core machine. */
const ANSWER_BOUND_MS = 2000;

interface Answer {
  status: number;
  body: string;
  ms: number;
}

function get(port: number, path: string): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, timeout: 5000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}


/**
 * Scrapes /metrics and probes /healthz and /readyz every 50 ms until stopped, keeping every
 * answer, so that the test can say how they behaved throughout the run.
 */
function watch(port: number): { answers: Map<string, Answer[]>; stop: () => Promise<void> } {
  const answers = new Map<string, Answer[]>([['/metrics', []], ['/healthz', []], ['/readyz', []]]);
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const [path, list] of answers) list.push(await get(port, path));
      await sleep(50);
    }
  })();
  return {
    answers,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

function assertAnsweredInTime(answers: Map<string, Answer[]>): void {
  for (const [path, list] of answers) {
    const slowest = Math.max(...list.map((a) => a.ms));
    assert.ok(slowest < ANSWER_BOUND_MS, `${path} took ${Math.round(slowest)} ms`);
  }
  for (const answer of answers.get('/metrics') ?? []) {
    assert.equal(answer.status, 200);
    parseFamilies(answer.body); // every scrape parses, not only the last
  }
  assert.deepEqual([...new Set((answers.get('/healthz') ?? []).map((a) => a.status))], [200]);
}

const sum = (m: Families, name: string, labels: Record<string, string> = {}): number =>
  (m.get(name)?.metrics ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v)).reduce((n, s) => n + Number(s.value), 0);

test('stdout output: /metrics counters equal what was written and what came out, probes stay fast', { timeout: 60_000 }, async () => {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  const web = node.addContainer({ namespace: 'shop', pod: 'web-1', container: 'app' });
  const worker = node.addContainer({ namespace: 'batch', pod: 'job-1', container: 'worker', format: 'docker' });
  const cart = node.addContainer({ namespace: 'shop', pod: 'cart-1', container: 'app', format: 'crio' });
  const host = node.addHostLog('kubelet.log');
  const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} seq=${i} ${'x'.repeat(i % 50)}`);
  web.write(lines(200, 'web'));
  worker.write(lines(150, 'worker'), 'stderr');
  cart.write(lines(30, 'cart'));
  host.write(lines(50, 'host'));

  const port = await freePort();
  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, NODETAIL_HTTP_PORT: String(port) });
  let stdoutBytes = 0;
  agent.child.stdout?.on('data', (chunk: string) => (stdoutBytes += Buffer.byteLength(chunk)));
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    await agent.httpPort();
    watcher = watch(port);
    // Enough to keep the pipeline busy for a while (about 3 MB), in bursts, while it is probed.
    const BURSTS = 10;
    for (let i = 0; i < BURSTS; i++) {
      web.write(lines(2000, `web-late-${i}`));
      host.write(lines(20, `host-late-${i}`));
      await sleep(20);
    }
    const total = 200 + 150 + 30 + 50 + BURSTS * (2000 + 20);
    await agent.waitFor(`${total} records on stdout`, () => agent.records.length >= total);

    // Acknowledgement follows the write to stdout: wait until the counters have caught up.
    const m = await until('the output counter to reach the records written', async () => {
      const families = parseFamilies((await get(port, '/metrics')).body);
      const caughtUp = valueOf(families, 'nodetail_output_records_total') >= total && valueOf(families, 'nodetail_buffer_held_bytes') === 0;
      return caughtUp && valueOf(families, 'nodetail_checkpoint_writes_total') >= 1 ? families : undefined;
    });
    await until('three rounds of probes', () => ((watcher?.answers.get('/readyz')?.length ?? 0) >= 3 ? true : undefined));
    await watcher.stop();
    assert.equal(agent.records.length, total);

    assert.equal(valueOf(m, 'nodetail_input_records_total', { source: 'host' }), 50 + BURSTS * 20);
    assert.equal(sum(m, 'nodetail_input_records_total'), total);
    const fileBytes = [web.logPath, worker.logPath, cart.logPath, host.path].reduce((n, path) => n + statSync(path).size, 0);
    assert.equal(sum(m, 'nodetail_input_bytes_total'), fileBytes);
    assert.equal(valueOf(m, 'nodetail_input_namespace_records_total', { namespace: 'shop' }), 230 + BURSTS * 2000);
    assert.equal(valueOf(m, 'nodetail_input_namespace_records_total', { namespace: 'batch' }), 150);
    assert.equal(valueOf(m, 'nodetail_output_records_total'), total);
    assert.equal(valueOf(m, 'nodetail_output_bytes_total'), stdoutBytes);
    assert.equal(sum(m, 'nodetail_input_file_events_total', { event: 'opened' }), 4);
    assert.equal(sum(m, 'nodetail_input_problems_total'), 0);
    assert.equal(valueOf(m, 'nodetail_input_files_active'), 4);
    assert.equal(valueOf(m, 'nodetail_input_backlog_bytes'), 0);
    assert.equal(valueOf(m, 'nodetail_input_ingestion_paused'), 0);
    assert.equal(valueOf(m, 'nodetail_oldest_unacked_record_age_seconds'), 0);
    assert.equal(valueOf(m, 'nodetail_checkpoint_write_failures_total'), 0);
    assert.ok(valueOf(m, 'nodetail_checkpoint_writes_total') >= 1);
    assert.deepEqual(m.get('nodetail_build_info')?.metrics[0]?.labels, { version: pkg.version, node_version: process.version, sink: 'stdout' });
    assertAnsweredInTime(watcher.answers);
    assert.deepEqual([...new Set((watcher.answers.get('/readyz') ?? []).map((a) => a.status))], [200]);
  } finally {
    await watcher?.stop();
    await agent.stop();
    await node.remove();
    await state.remove();
  }
  assert.deepEqual(await agent.exited, { code: 0, signal: null });
});

test('Elasticsearch output: counters equal the documents stored; /readyz follows the server, /healthz stays up, no secret is logged', { timeout: 90_000 }, async () => {
  const PASSWORD = 'Metrics-Test-Passw0rd';
  const API_KEY = 'bWV0cmljcy10ZXN0OmFwaS1rZXktc2VjcmV0';
  const es = await startFakeElasticsearch({ auth: { username: 'elastic', password: PASSWORD, apiKey: API_KEY } });
  const node = await FakeNode.create();
  const state = await tempStateDir();
  const app = node.addContainer({ namespace: 'shop', pod: 'web-1', container: 'app' });
  const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} seq=${i}`);
  const port = await freePort();
  const agent = new AgentProcess({
    NODETAIL_PATHS: node.paths,
    NODETAIL_STATE_DIR: state.dir,
    NODETAIL_HTTP_PORT: String(port),
    ELASTICSEARCH_URL: es.url,
    ELASTICSEARCH_USERNAME: 'elastic',
    ELASTICSEARCH_PASSWORD: PASSWORD,
    ELASTICSEARCH_API_KEY: API_KEY,
    NODETAIL_RETRY_MAX_BACKOFF_MS: '200',
    NODETAIL_REQUEST_TIMEOUT_MS: '2000',
  });
  let output = '';
  agent.child.stdout?.on('data', (chunk: string) => (output += chunk));
  agent.child.stderr?.on('data', (chunk: string) => (output += chunk));
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    // With Elasticsearch as the output the self-log is on stdout: wait for the port instead.
    await until('the HTTP port', async () => ((await get(port, '/healthz')).status === 200 ? true : undefined));
    watcher = watch(port);
    app.write(lines(100, 'before'));
    await until('100 documents stored', () => (es.count() === 100 ? true : undefined));
    await until('ready', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined));
    let m = await until('the output counter', async () => {
      const families = parseFamilies((await get(port, '/metrics')).body);
      return valueOf(families, 'nodetail_output_records_total') === 100 ? families : undefined;
    });
    assert.equal(valueOf(m, 'nodetail_input_records_total', { source: 'containers' }), 100);
    assert.equal(m.get('nodetail_build_info')?.metrics[0]?.labels?.sink, 'elasticsearch');

    await es.down();
    app.write(lines(50, 'during'));
    const unready = await until('/readyz to report the output down', async () => {
      const answer = await get(port, '/readyz');
      return answer.status === 503 ? answer : undefined;
    });
    assert.match(unready.body, /^not ready:\n- output elasticsearch/);
    assert.equal((await get(port, '/healthz')).status, 200);

    await es.up();
    await until('150 documents stored', () => (es.count() === 150 ? true : undefined), 30_000);
    await until('ready again', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined));
    m = await until('the output counter', async () => {
      const families = parseFamilies((await get(port, '/metrics')).body);
      return valueOf(families, 'nodetail_output_records_total') === 150 ? families : undefined;
    });
    // Two more rounds of probes, all begun after the output was back.
    const probed = watcher.answers.get('/readyz')?.length ?? 0;
    await until('two more rounds of probes', () => ((watcher?.answers.get('/readyz')?.length ?? 0) >= probed + 2 ? true : undefined));
    await watcher.stop();
    assert.equal(valueOf(m, 'nodetail_input_records_total', { source: 'containers' }), 150);
    assert.equal(es.count(), 150);
    assert.ok(sum(m, 'nodetail_output_errors_total') >= 1, 'the outage was not counted as an output error');
    assert.ok(sum(m, 'nodetail_output_retries_total') >= 1, 'the outage caused no counted retry');
    assert.equal(sum(m, 'nodetail_output_dead_letters_total'), 0);
    assertAnsweredInTime(watcher.answers);
    // The outage may be shorter than the watcher's period: the 503 itself was seen above.
    assert.equal((watcher.answers.get('/readyz') ?? []).at(-1)?.status, 200);
  } finally {
    await watcher?.stop();
    await agent.stop();
    await es.close();
    await node.remove();
    await state.remove();
  }
  assert.deepEqual(await agent.exited, { code: 0, signal: null });
  assert.ok(output.includes('nodetail started'), 'the self-log was not captured');
  assert.ok(!output.includes(PASSWORD), 'the password was logged');
  assert.ok(!output.includes(API_KEY), 'the API key was logged');
});
