/**
 * Issue 3 end to end: the real agent (`node agent/main.ts`) as a child process shipping a fake
 * node's logs to the fake Elasticsearch over loopback. Every proof counts what the index holds
 * by `_id` (the fake keeps documents as Elasticsearch would), and every written `seq=` line
 * must be there exactly once, whatever the server did meanwhile.
 *
 * With ELASTICSEARCH_URL set the agent's self-log is on stdout; AgentProcess collects it in
 * `logs` as it does stderr's in stdout mode.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentProcess, gaps, sequenceCounts, tempStateDir } from '../support/agent-process.ts';
import { startFakeElasticsearch, type FakeElasticsearch, type FakeElasticsearchOptions } from '../support/fake-elasticsearch.ts';
import { FakeNode, type FakeContainer } from '../support/fake-node.ts';
import { parseFamilies, valueOf, type Families } from '../unit/telemetry/prometheus-text.ts';
import { until } from '../support/until.ts';

type Doc = Record<string, unknown> & { log?: unknown; kubernetes?: { pod_name?: string } };
const byPod = (d: Doc): string => String(d.kubernetes?.pod_name);
const PADDING = 'x'.repeat(150);


function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, timeout: 5000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

const scrape = async (port: number): Promise<Families> => parseFamilies((await get(port, '/metrics')).body);

/** The agent's HTTP port, from its start-up line (on stdout with an Elasticsearch output). */
async function started(agent: AgentProcess): Promise<number> {
  const line = await until('the start-up log line', () => agent.logs.find((l) => l.msg === 'nodetail started'), 20_000, agent);
  return line.httpPort as number;
}

/** Every stdout and stderr byte the agent writes, to look for secrets in any line. */
function captureOutput(agent: AgentProcess): () => string {
  let text = '';
  agent.child.stdout?.on('data', (chunk: string) => (text += chunk));
  agent.child.stderr?.on('data', (chunk: string) => (text += chunk));
  return () => text;
}

/** Peak and current resident memory of a process, from /proc (kB → bytes). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const MiB = 1024 * 1024;
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/**
 * Writes `seq=<n>` lines into every container at a steady rate, until `lines` are written or
 * `stop()` is called; both give the number of lines each container got.
 */
function startWriter(containers: readonly FakeContainer[], options: { perTick: number; tickMs: number; lines?: number; padding?: string }): { done: Promise<number>; stop: () => Promise<number>; written: () => number } {
  let stopped = false;
  let seq = 0;
  const padding = options.padding ?? PADDING;
  const done = (async () => {
    const max = options.lines ?? Infinity;
    while (!stopped && seq < max) {
      const n = Math.min(options.perTick, max - seq);
      for (const c of containers) c.write(Array.from({ length: n }, (_, i) => `seq=${seq + i} ${padding}`));
      seq += n;
      await sleep(options.tickMs);
    }
    return seq;
  })();
  return {
    done,
    stop: () => {
      stopped = true;
      return done;
    },
    written: () => seq,
  };
}

/** The index holds, per container, seq 0..lines-1 exactly once, and nothing else. */
function assertEachOnce(es: FakeElasticsearch, containers: readonly FakeContainer[], lines: number): void {
  const docs = es.docs();
  const counts = sequenceCounts(docs.map((d) => d.doc as Doc), byPod);
  for (const c of containers) assert.deepEqual(gaps(counts.get(c.spec.pod), lines), { missing: [], repeated: [] }, c.spec.pod);
  assert.deepEqual([...counts.keys()].sort(), containers.map((c) => c.spec.pod).sort());
  assert.equal(docs.length, containers.length * lines);
  // Each document was created by exactly one `create` (201); any repeat was a 409.
  assert.equal(es.stats().itemStatuses[201], docs.length);
  for (const d of docs) {
    // Deterministic ids: `<16-char file fingerprint>-<byte offset in base 36>`, in the record's day index.
    assert.match(d.id, /^[A-Za-z0-9_-]{16}-[0-9a-z]+$/);
    const day = String((d.doc as Doc)['@timestamp']).slice(0, 10).replaceAll('-', '.');
    assert.equal(d.index, `logstash-${day}`);
  }
}

interface Rig {
  readonly es: FakeElasticsearch;
  readonly node: FakeNode;
  readonly state: { dir: string };
  readonly containers: FakeContainer[];
  readonly env: Record<string, string>;
  /** Starts an agent that is killed (if still running) when the test ends. */
  agent(extra?: Record<string, string>): AgentProcess;
}

/** A fake node with `containers` (containerd and docker alternately), a fake Elasticsearch and a state dir, all removed after the test. */
async function rig(t: TestContext, options: { containers: number; es?: FakeElasticsearchOptions; env?: Record<string, string> }): Promise<Rig> {
  const es = await startFakeElasticsearch(options.es);
  const node = await FakeNode.create();
  const state = await tempStateDir();
  const agents: AgentProcess[] = [];
  t.after(async () => {
    for (const a of agents) await a.kill9();
    await es.close();
    await node.remove();
    await state.remove();
  });
  const containers = Array.from({ length: options.containers }, (_, i) =>
    node.addContainer({ namespace: 'e2e', pod: `pod-${i}`, container: 'app', format: i % 2 === 1 ? 'docker' : 'containerd' }));
  const env = {
    NODETAIL_PATHS: node.paths,
    NODETAIL_STATE_DIR: state.dir,
    ELASTICSEARCH_URL: es.url,
    NODETAIL_RETRY_MAX_BACKOFF_MS: '300',
    NODETAIL_REQUEST_TIMEOUT_MS: '2000',
    ...options.env,
  };
  return {
    es,
    node,
    state,
    containers,
    env,
    agent: (extra = {}) => {
      const a = new AgentProcess({ ...env, ...extra });
      agents.push(a);
      return a;
    },
  };
}

/** Stops the agent cleanly and proves a restart on the same state sends nothing: every acknowledgement reached the checkpoint. */
async function assertNothingResent(r: Rig, agent: AgentProcess): Promise<void> {
  assert.deepEqual(await agent.stop(), { code: 0, signal: null });
  const items = r.es.stats().items;
  const again = r.agent();
  await started(again);
  await sleep(800); // several poll and batch periods: anything below the checkpoint would be sent by now
  assert.equal(r.es.stats().items, items, 'a restart sent records again');
  assert.deepEqual(await again.stop(), { code: 0, signal: null });
}

// ---------------------------------------------------------------------------------------------
// 1. Every written line exactly once, whatever the server does.

const deliveryCases: Array<{ name: string; es: FakeElasticsearchOptions; check: (es: FakeElasticsearch) => void }> = [
  { name: 'a normal run', es: {}, check: (es) => assert.deepEqual(es.stats().itemStatuses, { 201: 8000 }) },
  {
    name: '20 % of items answered 429',
    es: { itemRejectRate: 0.2, seed: 7 },
    check: (es) => assert.ok((es.stats().itemStatuses[429] ?? 0) > 500, `only ${es.stats().itemStatuses[429]} items were answered 429`),
  },
  {
    name: '10 % of requests answered 503',
    es: { requestFailRate: 0.1, seed: 11 },
    check: (es) => assert.ok((es.stats().requestStatuses[503] ?? 0) >= 5, `only ${es.stats().requestStatuses[503]} requests were answered 503`),
  },
];

for (const c of deliveryCases) {
  test(`every line is in the index exactly once: ${c.name}`, { timeout: 40_000 }, async (t) => {
    // Small batches, so that there are many requests and items for the faults to hit.
    const r = await rig(t, { containers: 2, es: c.es, env: { NODETAIL_BATCH_MAX_RECORDS: '50' } });
    const agent = r.agent();
    await started(agent);
    const lines = 4000;
    await startWriter(r.containers, { perTick: 100, tickMs: 20, lines }).done;
    await until(`${2 * lines} documents`, () => (r.es.count() >= 2 * lines ? true : undefined), 25_000, agent);
    await sleep(300); // nothing more may come
    assertEachOnce(r.es, r.containers, lines);
    c.check(r.es);
    await assertNothingResent(r, agent);
  });
}

test('the server down 30 s mid-stream while lines keep coming: the agent stays up, then catches up; each line once', { timeout: 70_000 }, async (t) => {
  const r = await rig(t, { containers: 2, env: { NODETAIL_RETRY_MAX_BACKOFF_MS: '500' } });
  const agent = r.agent();
  const port = await started(agent);
  const writer = startWriter(r.containers, { perTick: 20, tickMs: 100 });
  await until('the first documents', () => (r.es.count() > 0 ? true : undefined), 10_000, agent);
  await sleep(1000);

  await r.es.down();
  const downAt = Date.now();
  const writtenAtDown = writer.written();
  const unready = await until('/readyz to say the output is down', async () => {
    const answer = await get(port, '/readyz');
    return answer.status === 503 ? answer.body : undefined;
  }, 10_000, agent);
  assert.match(unready, /output elasticsearch/);
  const stored = r.es.count();
  const outage = await until('the outage in the self-log', () => agent.logs.find((l) => String(l.msg).includes('cannot reach the server')), 10_000, agent);
  assert.equal(outage.level, 'error');
  while (Date.now() - downAt < 30_000) {
    await sleep(1000);
    assert.equal(agent.child.exitCode, null, 'the agent exited during the outage');
    assert.equal((await get(port, '/healthz')).status, 200);
  }
  const held = valueOf(await scrape(port), 'nodetail_buffer_held_bytes');
  const writtenDuringOutage = writer.written() - writtenAtDown;
  await r.es.up();
  await sleep(2000); // lines keep coming after the server is back
  const lines = await writer.stop();

  await until(`${2 * lines} documents`, () => (r.es.count() >= 2 * lines ? true : undefined), 30_000, agent);
  await sleep(300);
  assertEachOnce(r.es, r.containers, lines);
  // Mid-stream: lines kept coming while it was down (200 lines/s per container on a quiet machine;
  // a loaded one writes fewer, so the bound is the writer's own count, not the nominal rate).
  assert.ok(writtenDuringOutage >= 1000, `only ${writtenDuringOutage} lines per container were written during the outage`);
  assert.ok(2 * lines - stored >= 2 * writtenDuringOutage, `only ${2 * lines - stored} lines came after the outage began`);
  assert.ok(agent.logs.some((l) => l.recovered === 'unreachable'), 'the recovery was not logged');
  assert.equal((await get(port, '/readyz')).status, 200);
  t.diagnostic(`outage ${Math.round((Date.now() - downAt) / 1000)} s: ${stored} documents before it, ${mib(held)} held during it, ${2 * lines} lines in the end, each once`);
  await assertNothingResent(r, agent);
});

test('kill -9 ten times mid-stream and restarted: each line once in the index, replays answered 409 and counted as delivered', { timeout: 70_000 }, async (t) => {
  // Checkpoints every 500 ms: a kill nearly always lands after some acknowledgements that were
  // not persisted yet, so the restart replays them and the server must answer 409.
  const r = await rig(t, { containers: 2, env: { NODETAIL_CHECKPOINT_INTERVAL_MS: '500', NODETAIL_BATCH_MAX_RECORDS: '200' } });
  let agent = r.agent();
  await started(agent);
  const writer = startWriter(r.containers, { perTick: 10, tickMs: 10 });
  let seed = 1234;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let kills = 0;
  const conflictsBefore: number[] = [];
  for (; kills < 10; kills++) {
    await started(agent); // a moment in the agent's working life, not during its start
    await sleep(300 + random() * 900);
    await agent.kill9();
    conflictsBefore.push(r.es.stats().itemStatuses[409] ?? 0);
    agent = r.agent();
  }
  const lines = await writer.stop();
  const port = await started(agent);
  await until(`${2 * lines} documents`, () => (r.es.count() >= 2 * lines ? true : undefined), 30_000, agent);
  // Counted as delivered: the restarted agent's output counter covers every record it sent, 409s included.
  const m = await until('the output to catch up', async () => {
    const f = await scrape(port);
    return valueOf(f, 'nodetail_buffer_held_bytes') === 0 && valueOf(f, 'nodetail_output_records_total') === valueOf(f, 'nodetail_input_records_total', { source: 'containers' }) ? f : undefined;
  }, 10_000, agent);
  await sleep(300);
  assertEachOnce(r.es, r.containers, lines);
  const stats = r.es.stats();
  const conflicts = stats.itemStatuses[409] ?? 0;
  assert.ok(conflicts > 0, 'no replay was answered 409');
  t.diagnostic(`kill -9 x${kills}: ${2 * lines} lines, ${stats.items} items sent, ${conflicts} replays answered 409 (after each kill: ${conflictsBefore.join(',')}), last agent acknowledged ${valueOf(m, 'nodetail_output_records_total')}`);
  await assertNothingResent(r, agent);
});

// ---------------------------------------------------------------------------------------------
// 2. Rejected records go to the dead-letter file; the rest is indexed; the checkpoint moves on.

test('a mapping rejection: the record is in dead-letters.ndjson with the reason, every other record is indexed, the checkpoint moves past it', { timeout: 40_000 }, async (t) => {
  const rejected = new Set(['seq=77 ', 'seq=150 ']);
  const r = await rig(t, {
    containers: 1,
    es: { reject: (doc) => [...rejected].some((s) => String((doc as Doc).log).startsWith(s)) },
  });
  const [app] = r.containers as [FakeContainer];
  const agent = r.agent();
  const port = await started(agent);
  const lines = 200;
  app.write(Array.from({ length: lines }, (_, i) => `seq=${i} ${PADDING}`));
  await until(`${lines - 2} documents`, () => (r.es.count() >= lines - 2 ? true : undefined), 15_000, agent);
  const deadLetters = join(r.state.dir, 'dead-letters.ndjson');
  const letters = await until('two dead letters', () => {
    if (!existsSync(deadLetters)) return undefined;
    const parsed = readFileSync(deadLetters, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    return parsed.length >= 2 ? parsed : undefined;
  }, 10_000, agent);

  const counts = sequenceCounts(r.es.docs().map((d) => d.doc as Doc), byPod).get(app.spec.pod);
  assert.deepEqual(gaps(counts, lines), { missing: [77, 150], repeated: [] });
  assert.equal(r.es.count(), lines - 2);
  assert.equal(letters.length, 2);
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '.');
  for (const [i, seq] of [77, 150].entries()) {
    const letter = letters[i] as { time: string; status: number; error: { type: string; reason: string }; index: string; document: Doc };
    assert.equal(letter.status, 400);
    assert.equal(letter.error.type, 'document_parsing_exception');
    assert.match(letter.error.reason, /^\[1:42\] failed to parse field \[kubernetes\.labels\.app\] of type \[text\] in document with id '[A-Za-z0-9_-]{16}-[0-9a-z]+'/);
    assert.equal(letter.index, `logstash-${day}`);
    assert.equal(letter.document.log, `seq=${seq} ${PADDING}`);
    assert.equal(letter.document.kubernetes?.pod_name, app.spec.pod);
    assert.ok(Math.abs(Date.parse(letter.time) - Date.now()) < 60_000, letter.time);
  }
  const m = await scrape(port);
  assert.equal(valueOf(m, 'nodetail_output_dead_letters_total', { reason: 'mapping' }), 2);
  assert.equal(valueOf(m, 'nodetail_output_records_total'), lines - 2);
  const warning = agent.logs.find((l) => String(l.msg).includes('in the dead-letter file with the reason'));
  assert.equal(warning?.type, 'document_parsing_exception');

  // The checkpoint moves past the rejected records: after a clean stop it is the file's end,
  // and a restart sends nothing again (the rejected line included).
  assert.deepEqual(await agent.stop(), { code: 0, signal: null });
  const checkpoints = JSON.parse(readFileSync(join(r.state.dir, 'checkpoints.json'), 'utf8')) as { files: Record<string, { offset: number }> };
  const st = statSync(app.logPath, { bigint: true });
  assert.equal(checkpoints.files[`${st.dev}:${st.ino}`]?.offset, Number(st.size));
  const items = r.es.stats().items;
  const again = r.agent();
  await started(again);
  app.write(['seq=200 after the restart']);
  await until('the new line', () => (r.es.count() === lines - 1 ? true : undefined), 10_000, again);
  await sleep(500);
  assert.equal(r.es.stats().items, items + 1, 'the restart sent old records again');
  assert.equal(readFileSync(deadLetters, 'utf8').split('\n').filter((l) => l !== '').length, 2);
  assert.deepEqual(await again.stop(), { code: 0, signal: null });
});

// ---------------------------------------------------------------------------------------------
// 3. Bounded memory while the server is down.

/** One default read (256 KiB) of ~1 KB lines, as encoded bulk items (action line and Kubernetes fields add ~30 %). */
const OVERSHOOT_SLACK = 256 * 1024 * 1.5;

test('server down: reading pauses at the budget, memory stays bounded while ~100 MB wait on disk, then every line arrives once', { timeout: 90_000 }, async (t) => {
  const budget = 4 * MiB;
  const r = await rig(t, {
    containers: 2,
    env: { NODETAIL_BUFFER_MAX_BYTES: '4MiB', NODETAIL_BATCH_MAX_BYTES: '1MiB', NODETAIL_RETRY_MAX_BACKOFF_MS: '500' },
  });
  const agent = r.agent();
  const port = await started(agent);
  const pid = agent.child.pid as number;
  const padding = 'y'.repeat(1000);
  let seq = 0;
  const write = (n: number) => {
    for (let i = 0; i < n; i += 1000) {
      const block = Array.from({ length: Math.min(1000, n - i) }, (_, j) => `seq=${seq + i + j} ${padding}`);
      for (const c of r.containers) c.write(block);
    }
    seq += n;
  };
  write(100);
  await until('the first documents', () => (r.es.count() === 200 ? true : undefined), 10_000, agent);
  const before = memoryOf(pid);

  await r.es.down();
  const downAt = Date.now();
  const sizeBefore = r.containers.reduce((n, c) => n + statSync(c.logPath).size, 0);
  write(50_000); // 2 x ~50 MB
  const written = r.containers.reduce((n, c) => n + statSync(c.logPath).size, 0) - sizeBefore;
  const samples: Array<{ held: number; paused: number; backlog: number }> = [];
  let peakRss = 0;
  while (Date.now() - downAt < 10_000) {
    const m = await scrape(port);
    samples.push({ held: valueOf(m, 'nodetail_buffer_held_bytes'), paused: valueOf(m, 'nodetail_input_ingestion_paused'), backlog: valueOf(m, 'nodetail_input_backlog_bytes') });
    peakRss = Math.max(peakRss, memoryOf(pid).rss);
    await sleep(200);
  }
  const down = memoryOf(pid);
  assert.equal(agent.child.exitCode, null);
  const last = samples.at(-1) as { held: number; paused: number; backlog: number };
  const maxHeld = Math.max(...samples.map((s) => s.held));
  // One read of read_chunk_bytes (256 KiB) may start just under the budget and, encoded, land
  // above it: the strict bound is the todo test below; this one bounds the overshoot to that read.
  assert.ok(maxHeld <= budget + OVERSHOOT_SLACK, `held ${maxHeld} bytes, over the budget of ${budget} by more than one encoded read`);
  assert.equal(last.paused, 1, 'reading is not paused');
  assert.ok(last.held > budget / 2, `only ${last.held} bytes held: the budget was not what paused reading`);
  // The files on disk are the buffer: what was not read is still in them.
  assert.ok(last.backlog >= written - budget, `backlog ${last.backlog} of ${written} written`);

  // Reading ~100 MB into memory would show here; 64 MiB leaves room for the garbage of retries.
  assert.ok(down.hwm < before.rss + 64 * MiB, `peak RSS ${mib(down.hwm)} while down, ${mib(before.rss)} before`);

  await r.es.up();
  const upAt = Date.now();
  let catchUpPeak = 0;
  await until(`${2 * seq} documents`, () => {
    catchUpPeak = Math.max(catchUpPeak, memoryOf(pid).rss);
    return r.es.count() >= 2 * seq ? true : undefined;
  }, 60_000, agent);
  const catchUpMs = Date.now() - upAt;
  const after = memoryOf(pid);
  await sleep(300);
  assertEachOnce(r.es, r.containers, seq);
  t.diagnostic(`budget ${mib(budget)}, ${mib(written)} written while down; held at most ${mib(maxHeld)}, paused=${last.paused}, backlog ${mib(last.backlog)}`);
  t.diagnostic(`agent RSS: before ${mib(before.rss)}, peak while down ${mib(peakRss)} (VmHWM ${mib(down.hwm)}), peak while catching up ${mib(catchUpPeak)} (VmHWM ${mib(after.hwm)}); caught up in ${catchUpMs} ms`);
  await assertNothingResent(r, agent);
});

test('held bytes never exceed buffer_max_bytes, even by the read that starts just under it', { timeout: 30_000 }, async (t) => {
  const budget = 1 * MiB;
  const r = await rig(t, { containers: 1, env: { NODETAIL_BUFFER_MAX_BYTES: '1MiB', NODETAIL_RETRY_MAX_BACKOFF_MS: '500' } });
  const [app] = r.containers as [FakeContainer];
  await r.es.down();
  // Written before the start, so that every read is a whole chunk and the overshoot is the same every run.
  const padding = 'z'.repeat(1000);
  for (let i = 0; i < 8000; i += 1000) app.write(Array.from({ length: 1000 }, (_, j) => `seq=${i + j} ${padding}`));
  const agent = r.agent();
  const port = await started(agent);
  const m = await until('reading to pause', async () => {
    const f = await scrape(port);
    return valueOf(f, 'nodetail_input_ingestion_paused') === 1 ? f : undefined;
  }, 15_000, agent);
  const held = valueOf(m, 'nodetail_buffer_held_bytes');
  assert.ok(held <= budget, `held ${held} bytes, ${held - budget} over the budget of ${budget}`);
});

// ---------------------------------------------------------------------------------------------
// 4. Both schemas and both index modes produce the documented documents.

/** The documented `_id`: the file's fingerprint (sha256 of its inode, NUL, its first line; base64url, 16 chars), `-`, the record's byte offset in base 36. */
function expectedId(path: string, offset: number): string {
  const st = statSync(path, { bigint: true });
  const content = readFileSync(path);
  const firstLine = content.subarray(0, content.indexOf(10) + 1);
  const prefix = createHash('sha256').update(`${st.ino}`).update('\0').update(firstLine).digest('base64url').slice(0, 16);
  return `${prefix}-${offset.toString(36)}`;
}

test('schemas fluentd and ecs, index modes logstash and data_stream: the documented documents, index names and create with deterministic ids', { timeout: 60_000 }, async (t) => {
  const node = await FakeNode.create();
  t.after(() => node.remove());
  const uid = '6f1c2d3e-0000-4000-8000-00000000abcd';
  const cid = 'c'.repeat(64);
  const web = node.addContainer({ namespace: 'shop', pod: 'web-1', container: 'app', uid, id: cid });
  const cart = node.addContainer({ namespace: 'shop', pod: 'cart-1', container: 'app', format: 'crio', uid: 'cart-uid', id: 'a'.repeat(64) });
  const job = node.addContainer({ namespace: 'batch', pod: 'job-1', container: 'worker', format: 'docker', uid: 'job-uid', id: 'd'.repeat(64) });
  const host = node.addHostLog('kubelet.log');
  // Timestamps around a UTC midnight: the index day is the line's own UTC date, never today's.
  web.write(['first line seq=0'], 'stdout', new Date('2024-03-05T23:59:58.500Z'));
  const secondOffset = statSync(web.logPath).size;
  web.write(['second "line" ünïcode seq=1'], 'stderr', new Date('2024-03-06T00:00:01.000Z'));
  // CRI-O writes a numeric offset: 01:30 at +02:00 is still the 5th in UTC.
  cart.writeRaw('2024-03-06T01:30:00.250000000+02:00 stdout F cart line seq=0\n');
  job.write(['docker line seq=0'], 'stderr', new Date('2024-03-05T12:00:00.000Z'));
  const hostWritten = Date.now();
  host.write(['host line seq=0']);

  const variants = [
    { schema: 'fluentd', mode: 'logstash', env: {} },
    { schema: 'fluentd', mode: 'logstash', env: { NODETAIL_LOGSTASH_PREFIX: 'kube-logs' } },
    { schema: 'ecs', mode: 'data_stream', env: { NODETAIL_DATA_STREAM_DATASET: 'k8s', NODETAIL_DATA_STREAM_NAMESPACE: 'prod' } },
    { schema: 'ecs', mode: 'logstash', env: {} },
    { schema: 'fluentd', mode: 'data_stream', env: {} },
  ] as const;
  // One agent and one server per variant, side by side, all reading the same node.
  const runs = await Promise.all(variants.map(async (v) => {
    const es = await startFakeElasticsearch();
    const state = await tempStateDir();
    const env = { NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, ELASTICSEARCH_URL: es.url, NODETAIL_RETRY_MAX_BACKOFF_MS: '300', NODETAIL_SCHEMA: v.schema, NODETAIL_INDEX_MODE: v.mode, ...v.env };
    const agents = [new AgentProcess(env)];
    t.after(async () => {
      for (const a of agents) await a.kill9();
      await es.close();
      await state.remove();
    });
    await until(`5 documents (${v.schema}, ${v.mode})`, () => (es.count() >= 5 ? true : undefined), 30_000, agents[0]);
    await sleep(300);
    assert.deepEqual(await (agents[0] as AgentProcess).stop(), { code: 0, signal: null });
    return { ...v, es, state, env, agents };
  }));

  const fluentdWeb = (ts: string, log: string, stream: string) => ({
    log, stream, '@timestamp': ts,
    docker: { container_id: cid },
    kubernetes: { namespace_name: 'shop', pod_name: 'web-1', pod_id: uid, container_name: 'app', restart_count: 0, host: 'test-node' },
  });
  const ecsWeb = (ts: string, message: string, stream: string) => ({
    '@timestamp': ts, message, stream,
    log: { file: { path: web.linkPath } },
    host: { name: 'test-node' },
    kubernetes: { node: { name: 'test-node' }, namespace: 'shop', pod: { name: 'web-1', uid }, container: { name: 'app', restart_count: 0 } },
    container: { id: cid },
  });
  const ids = { first: expectedId(web.logPath, 0), second: expectedId(web.logPath, secondOffset) };

  for (const run of runs) {
    const label = `${run.schema}/${run.mode}`;
    const docs = run.es.docs();
    assert.equal(docs.length, 5, label);
    const byId = new Map(docs.map((d) => [d.id, d]));
    const first = byId.get(ids.first);
    const second = byId.get(ids.second);
    assert.ok(first !== undefined && second !== undefined, `${label}: the deterministic ids ${ids.first}, ${ids.second} are not among ${[...byId.keys()].join(', ')}`);
    if (run.mode === 'logstash') {
      const prefix = 'NODETAIL_LOGSTASH_PREFIX' in run.env ? run.env.NODETAIL_LOGSTASH_PREFIX : 'logstash';
      assert.equal(first.index, `${prefix}-2024.03.05`, label);
      assert.equal(second.index, `${prefix}-2024.03.06`, label);
      const text = (d: (typeof docs)[number]) => String((d.doc as Record<string, unknown>)[run.schema === 'ecs' ? 'message' : 'log']);
      const indexOf = (prefixText: string) => docs.find((d) => text(d).startsWith(prefixText))?.index;
      assert.equal(indexOf('cart line'), `${prefix}-2024.03.05`, `${label}: +02:00 line`);
      assert.equal(indexOf('docker line'), `${prefix}-2024.03.05`, label);
      const today = new Date(hostWritten).toISOString().slice(0, 10).replaceAll('-', '.');
      assert.equal(indexOf('host line'), `${prefix}-${today}`, `${label}: a host line is timed when read`);
    } else {
      const name = run.schema === 'ecs' ? 'logs-k8s-prod' : 'logs-kubernetes-default';
      assert.deepEqual([...new Set(docs.map((d) => d.index))], [name], label);
    }
    if (run.schema === 'fluentd') {
      assert.deepEqual(first.doc, fluentdWeb('2024-03-05T23:59:58.5Z', 'first line seq=0', 'stdout'), label);
      assert.deepEqual(second.doc, fluentdWeb('2024-03-06T00:00:01Z', 'second "line" ünïcode seq=1', 'stderr'), label);
      const docker = docs.find((d) => (d.doc as Doc).log === 'docker line seq=0');
      assert.deepEqual(docker?.doc, {
        log: 'docker line seq=0', stream: 'stderr', '@timestamp': '2024-03-05T12:00:00.000123456Z',
        docker: { container_id: 'd'.repeat(64) },
        kubernetes: { namespace_name: 'batch', pod_name: 'job-1', pod_id: 'job-uid', container_name: 'worker', restart_count: 0, host: 'test-node' },
      }, label);
      const hostDoc = docs.find((d) => (d.doc as Doc).log === 'host line seq=0')?.doc as Record<string, unknown>;
      assert.deepEqual({ ...hostDoc, '@timestamp': undefined }, { log: 'host line seq=0', '@timestamp': undefined, host: 'test-node', path: host.path }, label);
      assertReadTime(String(hostDoc['@timestamp']), hostWritten);
    } else {
      assert.deepEqual(first.doc, ecsWeb('2024-03-05T23:59:58.5Z', 'first line seq=0', 'stdout'), label);
      assert.deepEqual(second.doc, ecsWeb('2024-03-06T00:00:01Z', 'second "line" ünïcode seq=1', 'stderr'), label);
      const cartDoc = docs.find((d) => (d.doc as Record<string, unknown>).message === 'cart line seq=0');
      assert.deepEqual(cartDoc?.doc, {
        '@timestamp': '2024-03-06T01:30:00.250000000+02:00', message: 'cart line seq=0', stream: 'stdout',
        log: { file: { path: cart.linkPath } },
        host: { name: 'test-node' },
        kubernetes: { node: { name: 'test-node' }, namespace: 'shop', pod: { name: 'cart-1', uid: 'cart-uid' }, container: { name: 'app', restart_count: 0 } },
        container: { id: 'a'.repeat(64) },
      }, label);
      const hostDoc = docs.find((d) => (d.doc as Record<string, unknown>).message === 'host line seq=0')?.doc as Record<string, unknown>;
      assert.deepEqual({ ...hostDoc, '@timestamp': undefined }, { '@timestamp': undefined, message: 'host line seq=0', log: { file: { path: host.path } }, host: { name: 'test-node' } }, label);
      assertReadTime(String(hostDoc['@timestamp']), hostWritten);
    }
    // Every item was a create: each document was created once (201)...
    assert.deepEqual(run.es.stats().itemStatuses, { 201: 5 }, label);
  }

  // ...and a replay from scratch (checkpoints gone) sends the same ids with create: all 409, nothing added.
  await Promise.all(runs.map(async (run) => {
    rmSync(join(run.state.dir, 'checkpoints.json'));
    const again = new AgentProcess(run.env);
    run.agents.push(again);
    await until('the replay', () => (run.es.stats().itemStatuses[409] === 5 ? true : undefined), 30_000, again);
    assert.deepEqual(await again.stop(), { code: 0, signal: null });
    assert.deepEqual(run.es.stats().itemStatuses, { 201: 5, 409: 5 }, `${run.schema}/${run.mode}`);
    assert.equal(run.es.count(), 5);
  }));
});

/** A host line has no time of its own: it is timed when read, as an RFC 3339 UTC time. */
function assertReadTime(ts: string, writtenAt: number): void {
  assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const ms = Date.parse(ts);
  assert.ok(ms >= writtenAt - 1000 && ms <= Date.now(), ts);
}

// ---------------------------------------------------------------------------------------------
// 5. fluentd-kubernetes-daemonset's variables; 6. a wrong password.

test('Fluentd variables (FLUENT_ELASTICSEARCH_HOST/PORT/SCHEME/USER/PASSWORD/LOGSTASH_PREFIX) instead of ELASTICSEARCH_URL: documents arrive in the prefixed index', { timeout: 30_000 }, async (t) => {
  const password = 'Fluentd-Compat-S3cret';
  const r = await rig(t, { containers: 2, es: { auth: { username: 'fluent', password } } });
  const { ELASTICSEARCH_URL: _unused, ...env } = r.env;
  const agent = new AgentProcess({
    ...env,
    FLUENT_ELASTICSEARCH_HOST: '127.0.0.1',
    FLUENT_ELASTICSEARCH_PORT: String(r.es.port),
    FLUENT_ELASTICSEARCH_SCHEME: 'http',
    FLUENT_ELASTICSEARCH_USER: 'fluent',
    FLUENT_ELASTICSEARCH_PASSWORD: password,
    FLUENT_ELASTICSEARCH_LOGSTASH_PREFIX: 'fluentd-k8s',
  });
  t.after(() => agent.kill9());
  const output = captureOutput(agent);
  await started(agent);
  const lines = 300;
  await startWriter(r.containers, { perTick: 100, tickMs: 20, lines }).done;
  await until(`${2 * lines} documents`, () => (r.es.count() >= 2 * lines ? true : undefined), 15_000, agent);
  await sleep(300);
  const docs = r.es.docs();
  const day = (d: (typeof docs)[number]) => String((d.doc as Doc)['@timestamp']).slice(0, 10).replaceAll('-', '.');
  for (const d of docs) assert.equal(d.index, `fluentd-k8s-${day(d)}`);
  const counts = sequenceCounts(docs.map((d) => d.doc as Doc), byPod);
  for (const c of r.containers) assert.deepEqual(gaps(counts.get(c.spec.pod), lines), { missing: [], repeated: [] });
  assert.equal(docs.length, 2 * lines);
  // Every request carried the Fluentd user's credentials, and none was refused.
  const basic = `Basic ${Buffer.from(`fluent:${password}`).toString('base64')}`;
  assert.deepEqual([...new Set(r.es.requests().map((q) => q.headers.authorization))], [basic]);
  assert.equal(r.es.stats().requestStatuses[401], undefined);
  const detected = agent.logs.find((l) => l.msg === 'Elasticsearch output: server detected');
  assert.equal(detected?.host, r.es.url);
  assert.equal(detected?.auth, 'basic (user fluent)');
  assert.deepEqual(await agent.stop(), { code: 0, signal: null });
  assert.ok(!output().includes(password), 'the password is in the output');
});

test('Fluentd\'s LOGSTASH_FORMAT=false with LOGSTASH_INDEX_NAME: every document in that one index, each line once', { timeout: 30_000 }, async (t) => {
  const r = await rig(t, { containers: 2 });
  const { ELASTICSEARCH_URL: _unused, ...env } = r.env;
  const agent = new AgentProcess({
    ...env,
    FLUENT_ELASTICSEARCH_HOST: '127.0.0.1',
    FLUENT_ELASTICSEARCH_PORT: String(r.es.port),
    FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT: 'false',
    FLUENT_ELASTICSEARCH_LOGSTASH_INDEX_NAME: 'k8s-logs',
    FLUENT_ELASTICSEARCH_LOGSTASH_PREFIX: 'not-used',
  });
  t.after(() => agent.kill9());
  await started(agent);
  const lines = 200;
  await startWriter(r.containers, { perTick: 100, tickMs: 20, lines }).done;
  await until(`${2 * lines} documents`, () => (r.es.count() >= 2 * lines ? true : undefined), 15_000, agent);
  await sleep(300);
  const docs = r.es.docs();
  assert.deepEqual([...new Set(docs.map((d) => d.index))], ['k8s-logs']);
  const counts = sequenceCounts(docs.map((d) => d.doc as Doc), byPod);
  for (const c of r.containers) assert.deepEqual(gaps(counts.get(c.spec.pod), lines), { missing: [], repeated: [] });
  assert.equal(docs.length, 2 * lines);
  assert.deepEqual(await agent.stop(), { code: 0, signal: null });
});

test('a wrong password: a clear error in the self-log without the password, /readyz 503, the agent stays up and keeps trying', { timeout: 30_000 }, async (t) => {
  const wrong = 'Wr0ng-Passw0rd-Given';
  const right = 'The-Right-Passw0rd';
  const r = await rig(t, { containers: 1, es: { auth: { username: 'elastic', password: right } } });
  r.containers[0]?.write(['seq=0 waits for the right password']);
  const agent = r.agent({ ELASTICSEARCH_USERNAME: 'elastic', ELASTICSEARCH_PASSWORD: wrong, NODETAIL_RETRY_MAX_BACKOFF_MS: '200', NODETAIL_SHUTDOWN_TIMEOUT_MS: '500' });
  const output = captureOutput(agent);
  const port = await started(agent);
  const refused = await until('the refusal in the self-log', () => agent.logs.find((l) => String(l.msg).includes('refused the credentials')), 10_000, agent);
  assert.equal(refused.level, 'error');
  assert.equal(refused.msg, 'Elasticsearch output: the server refused the credentials (401); check elasticsearch_username / elasticsearch_password / elasticsearch_api_key / elasticsearch_bearer_token_file. Not ready; retrying slowly');
  assert.equal(refused.status, 401);
  assert.equal(refused.type, 'security_exception');
  assert.equal(refused.reason, 'unable to authenticate user [elastic] for REST request [/]');
  assert.equal(refused.auth, 'basic (user elastic)');
  assert.equal(refused.host, r.es.url);

  const ready = await get(port, '/readyz');
  assert.equal(ready.status, 503);
  assert.match(ready.body, /^not ready:\n- output elasticsearch/);
  // Not a crash: two seconds on it is still up, healthy, still trying (slowly), and has stored nothing.
  const attempts = r.es.stats().requestStatuses[401] ?? 0;
  await sleep(2000);
  assert.equal(agent.child.exitCode, null);
  assert.equal((await get(port, '/healthz')).status, 200);
  assert.equal((await get(port, '/readyz')).status, 503);
  assert.ok((r.es.stats().requestStatuses[401] ?? 0) > attempts, 'the agent stopped trying');
  assert.equal(r.es.count(), 0);
  // Loud once, not at every retry.
  assert.equal(agent.logs.filter((l) => String(l.msg).includes('refused the credentials')).length, 1);
  assert.deepEqual(await agent.stop(), { code: 0, signal: null });
  const text = output();
  assert.ok(text.includes('refused the credentials'), 'the output was not captured');
  for (const secret of [wrong, Buffer.from(`elastic:${wrong}`).toString('base64')]) assert.ok(!text.includes(secret), `a secret is in the output: ${secret}`);
});
