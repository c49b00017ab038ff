import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ConfigError } from '../../../agent/core/errors.ts';
import { nullLog, type Log } from '../../../agent/core/log.ts';
import { startHttpServer, type HealthCheck, type HttpServerOptions, type ReadinessCheck } from '../../../agent/server/http-server.ts';
import { createMetrics } from '../../../agent/telemetry/metrics.ts';
import { parseFamilies, valueOf } from '../telemetry/prometheus-text.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request over loopback, with its own deadline so a hung server fails the test. */
function get(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, timeout: 2000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

const idleState = {
  heldBytes: () => 0,
  budgetBytes: () => 1024,
  paused: () => false,
  backlogBytes: () => 0,
  oldestUnackedSeconds: () => 0,
  activeFiles: () => 0,
  podCacheSize: () => 0,
};

/** A server that is healthy and ready and renders nothing, on `port`. */
const plain = (port: number): HttpServerOptions => ({
  port,
  address: '127.0.0.1',
  metrics: { contentType: 'text/plain', render: async () => '' },
  health: () => ({ ok: true }),
  ready: () => ({ ok: true, reasons: [] }),
  log: nullLog,
});

async function withServer(
  overrides: Partial<HttpServerOptions>,
  run: (port: number) => Promise<void>,
): Promise<void> {
  const metrics = createMetrics({ version: '9.9.9', sinkName: 'stdout', state: idleState });
  metrics.observer.recordsRead('containers', 12, 3456);
  const server = await startHttpServer({ ...plain(0), metrics, ...overrides });
  try {
    await run(server.port);
  } finally {
    await server.close();
    metrics.close();
  }
}

test('/metrics answers Prometheus text that a real parser reads', async () => {
  await withServer({}, async (port) => {
    const answer = await get(port, '/metrics');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(answer.headers['cache-control'], 'no-store');
    const families = parseFamilies(answer.body);
    assert.equal(valueOf(families, 'nodetail_input_records_total', { source: 'containers' }), 12);
    assert.equal(valueOf(families, 'nodetail_input_bytes_total', { source: 'containers' }), 3456);
    assert.equal(valueOf(families, 'nodetail_build_info', { version: '9.9.9' }), 1);
    // Prometheus may add query parameters; they do not change the answer.
    assert.equal((await get(port, '/metrics?name[]=up')).status, 200);
  });
});

test('/healthz is 200 "ok" or 503 with the reason; a throwing check is a failed check', async () => {
  let health: () => HealthCheck = () => ({ ok: true });
  await withServer({ health: () => health() }, async (port) => {
    let answer = await get(port, '/healthz');
    assert.deepEqual([answer.status, answer.body, answer.headers['content-type']], [200, 'ok\n', 'text/plain; charset=utf-8']);
    health = () => ({ ok: false, reason: 'no progress for 120 s' });
    answer = await get(port, '/healthz');
    assert.deepEqual([answer.status, answer.body], [503, 'unhealthy: no progress for 120 s\n']);
    health = () => {
      throw new Error('state unavailable');
    };
    answer = await get(port, '/healthz');
    assert.deepEqual([answer.status, answer.body], [503, 'unhealthy: check failed: state unavailable\n']);
  });
});

test('/readyz flips with readiness and lists every reason', async () => {
  let readiness: ReadinessCheck = { ok: false, reasons: ['output unreachable since 10 s', 'checkpoints not writable'] };
  await withServer({ ready: () => readiness }, async (port) => {
    let answer = await get(port, '/readyz');
    assert.deepEqual([answer.status, answer.body], [503, 'not ready:\n- output unreachable since 10 s\n- checkpoints not writable\n']);
    readiness = { ok: true, reasons: [] };
    answer = await get(port, '/readyz');
    assert.deepEqual([answer.status, answer.body], [200, 'ready\n']);
    readiness = { ok: false, reasons: ['output unreachable since 1 s'] };
    assert.equal((await get(port, '/readyz')).status, 503);
  });
});

test('unknown paths are 404, other methods 405 with Allow, HEAD has headers and no body', async () => {
  await withServer({}, async (port) => {
    assert.equal((await get(port, '/')).status, 404);
    assert.equal((await get(port, '/metricsx')).status, 404);
    const post = await get(port, '/metrics', 'POST');
    assert.deepEqual([post.status, post.headers.allow], [405, 'GET, HEAD']);
    assert.equal((await get(port, '/healthz', 'DELETE')).status, 405);
    const head = await get(port, '/healthz', 'HEAD');
    assert.deepEqual([head.status, head.body, head.headers['content-length']], [200, '', '3']);
  });
});

test('a failing render is a 500 and is logged, and the next scrape works', async () => {
  const errors: string[] = [];
  const log: Log = { ...nullLog, error: (_fields, message) => errors.push(message) };
  let fail = true;
  const metrics = { contentType: 'text/plain', render: async () => (fail ? Promise.reject(new Error('collector broke')) : 'up 1\n') };
  await withServer({ metrics, log }, async (port) => {
    assert.deepEqual([(await get(port, '/metrics')).status, errors], [500, ['rendering /metrics failed']]);
    fail = false;
    assert.equal((await get(port, '/metrics')).body, 'up 1\n');
  });
});

test('probes answer quickly while metrics rendering is slow', async () => {
  let release = (): void => {};
  const slow = { contentType: 'text/plain', render: () => new Promise<string>((resolve) => (release = () => resolve('up 1\n'))) };
  await withServer({ metrics: slow }, async (port) => {
    const scrape = get(port, '/metrics');
    const started = performance.now();
    const answers = await Promise.all([get(port, '/healthz'), get(port, '/readyz')]);
    assert.deepEqual(answers.map((a) => a.status), [200, 200]);
    assert.ok(performance.now() - started < 500, 'probes waited for the scrape');
    release();
    assert.equal((await scrape).body, 'up 1\n');
  });
});

test('close ends kept-alive connections at once, and a busy port is a start-up error', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const busy = (blocker.address() as { port: number }).port;
  try {
    await assert.rejects(
      startHttpServer(plain(busy)),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.key, 'http_port');
        assert.match(error.message, new RegExp(`^configuration: http_port: cannot listen on 127\\.0\\.0\\.1:${busy}: EADDRINUSE `));
        return true;
      },
    );
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }

  const server = await startHttpServer(plain(0));
  const agent = new Agent({ keepAlive: true });
  try {
    const answer = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(answer, 200);
    const started = performance.now();
    await server.close();
    assert.ok(performance.now() - started < 1000, 'close waited for the idle keep-alive connection');
  } finally {
    agent.destroy();
  }
});
