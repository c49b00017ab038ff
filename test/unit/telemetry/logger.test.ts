import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CENSOR, createLogger, type Logger, type LoggerOptions } from '../../../agent/telemetry/logger.ts';

const PASSWORD = 'hunter2-Pa$$"w0rd\\';
const API_KEY = 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==';

function capture(options: Partial<LoggerOptions> = {}): { log: Logger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', destination: 'stderr', stream: { write: (line: string) => lines.push(line) }, ...options });
  return { log, lines, text: () => lines.join('') };
}

test('lines are JSON objects with level, time, message and fields', () => {
  const { log, lines } = capture({ level: 'info' });
  log.debug({ a: 1 }, 'hidden below the level');
  log.info({ path: '/var/log/pods/x/0.log', offset: 42 }, 'file opened');
  log.error({ err: Object.assign(new Error('boom'), { code: 'EACCES' }) }, 'read failed');
  assert.equal(lines.length, 2);
  assert.ok(lines.every((line) => line.endsWith('\n')));
  const first = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(first.level, 'info');
  assert.equal(first.msg, 'file opened');
  assert.equal(first.path, '/var/log/pods/x/0.log');
  assert.equal(first.offset, 42);
  assert.equal(first.pid, process.pid);
  assert.ok(!Number.isNaN(Date.parse(String(first.time))));
  const second = JSON.parse(lines[1]!) as { level: string; err: { message: string; code: string; type: string } };
  assert.equal(second.level, 'error');
  assert.deepEqual([second.err.type, second.err.message, second.err.code], ['Error', 'boom', 'EACCES']);
});

test('secret-looking keys are censored wherever they sit', () => {
  const { log, text } = capture();
  log.info({ password: PASSWORD, apiKey: API_KEY }, 'top level');
  log.info({ elasticsearch: { password: PASSWORD, api_key: API_KEY } }, 'one level down');
  log.info({ request: { headers: { authorization: `ApiKey ${API_KEY}` } } }, 'two levels down');
  log.warn({ secret: { anything: PASSWORD }, token: API_KEY, Authorization: `Basic ${API_KEY}` }, 'whole secret object');
  const out = text();
  assert.ok(!out.includes('hunter2'), out);
  assert.ok(!out.includes('VnVhQ2ZH'), out);
  const objects = out.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(objects[0]!.password, CENSOR);
  assert.equal(objects[0]!.apiKey, CENSOR);
  assert.deepEqual(objects[1]!.elasticsearch, { password: CENSOR, api_key: CENSOR });
  assert.deepEqual(objects[2]!.request, { headers: { authorization: CENSOR } });
  assert.equal(objects[3]!.secret, CENSOR);
});

test('configured secret values are censored even inside messages, errors and URLs', () => {
  const { log, text } = capture({ secrets: [PASSWORD, API_KEY, undefined, 'ab'] });
  log.error({ err: new Error(`401 for key ${API_KEY}`) }, `login with ${PASSWORD} refused`);
  log.info({ detail: `quoted ${JSON.stringify(PASSWORD)}` }, 'escaped form');
  log.warn({ url: 'https://elastic:s3cr3t-url@es.example:9200/' }, 'connect failed');
  log.warn({ url: 'http://elastic:S3cr/3t-slash@es.example/' }, 'a password with an unescaped slash');
  const out = text();
  assert.ok(!out.includes('3t-slash'), out);
  assert.ok(!out.includes('hunter2'), out);
  assert.ok(!out.includes('VnVhQ2ZH'), out);
  assert.ok(!out.includes('s3cr3t-url'), out);
  assert.ok(out.includes(`https://elastic:${CENSOR}@es.example:9200/`), out);
  // Secrets too short to censor safely are left alone rather than mangling every line.
  assert.ok(out.includes('"level":"warn"'), out);
  for (const line of out.trim().split('\n')) JSON.parse(line);
});

test('child loggers carry their bindings and keep redaction', () => {
  const { log, lines } = capture({ secrets: [PASSWORD] });
  log.child({ component: 'sink' }).warn({ password: PASSWORD, status: 503 }, 'bulk failed');
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(line.component, 'sink');
  assert.equal(line.status, 503);
  assert.equal(line.password, CENSOR);
});

test('more paths can be censored, and an unknown level is refused', () => {
  const { log, lines } = capture({ redact: ['elasticsearch.username'] });
  log.info({ elasticsearch: { username: 'elastic', host: 'es' } }, 'x');
  assert.deepEqual((JSON.parse(lines[0]!) as { elasticsearch: object }).elasticsearch, { username: CENSOR, host: 'es' });
  assert.throws(() => capture({ level: 'verbose' }));
});

test('the destination picks the stream: stderr leaves stdout to the records, and the other way round', async () => {
  const logger = new URL('../../../agent/telemetry/logger.ts', import.meta.url).href;
  for (const destination of ['stderr', 'stdout'] as const) {
    const code = `const { createLogger } = await import(${JSON.stringify(logger)});
      const log = createLogger({ level: 'info', destination: '${destination}' });
      log.info({ n: 1 }, 'hello'); log.flush();`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { timeout: 10_000 });
    const [logged, other] = destination === 'stderr' ? [stderr, stdout] : [stdout, stderr];
    assert.equal(other, '');
    assert.deepEqual(logged.trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg), ['hello']);
  }
});
