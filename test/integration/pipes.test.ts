import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentProcess, FAST_ENV, gaps, sequenceCounts } from '../support/agent-process.ts';
import { until } from '../support/until.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Lines of one fixed length, so an offset says how many lines lie before it. */
const LINE_BYTES = 100;
const LINES = 20_000; // 2 MB: far more than a pipe holds, so the agent is still writing when the reader goes

function line(seq: number): string {
  const head = `seq=${seq} `;
  return head + 'x'.repeat(LINE_BYTES - head.length - 1) + '\n';
}

test('npm start | head: the first line is a record, and a reader that goes away ends the agent quietly with offsets only for what was written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-pipes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'app.log');
  await writeFile(log, Array.from({ length: LINES }, (_, i) => line(i)).join(''));
  const env = { ...FAST_ENV, PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? dir, NODETAIL_PATHS: log, NODETAIL_STATE_DIR: join(dir, 'state') };

  // As a user types it: npm (whatever Node runs npm) with the repository's .npmrc.
  // Its own process group, so that a failed test can end npm and the agent under it together.
  const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  t.after(() => {
    if (npm.exitCode === null && npm.pid !== undefined) process.kill(-npm.pid, 'SIGKILL');
  });
  let stderr = '';
  npm.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  let stdout = '';
  npm.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const first = await until('the first line on stdout', () => (stdout.includes('\n') ? stdout.slice(0, stdout.indexOf('\n')) : undefined), 60_000);
  // What `head -1` does: read one line, then close its end of the pipe.
  npm.stdout.destroy();

  assert.deepEqual(JSON.parse(first), { ...(JSON.parse(first) as object), log: line(0).trimEnd(), path: log }, `the first line on stdout is not the first record: ${first}`);
  assert.equal(await exited, 0, `npm start did not end cleanly; stderr: ${stderr}`);
  assert.doesNotMatch(stderr, /EPIPE|Error|\n\s+at /, 'a closed stdout printed an error or a stack trace');
  const logs = stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; signal?: string });
  assert.ok(logs.some((l) => l.signal === 'stdout closed'), `the self-log does not say why the agent stopped: ${stderr}`);
  assert.equal(logs.at(-1)?.msg, 'stopped: offsets persisted');

  const checkpoints = JSON.parse(await readFile(join(dir, 'state/checkpoints.json'), 'utf8')) as { files: Record<string, { offset: number }> };
  const offset = Object.values(checkpoints.files)[0]?.offset ?? 0;
  assert.equal(offset % LINE_BYTES, 0, 'the checkpoint is not at a line boundary');
  assert.ok(offset < LINES * LINE_BYTES, `the checkpoint (${offset}) claims lines that were never written to stdout`);

  // The next start goes on exactly after what was written: nothing skipped, nothing repeated.
  const again = new AgentProcess({ NODETAIL_PATHS: log, NODETAIL_STATE_DIR: join(dir, 'state') });
  t.after(() => again.kill9());
  const resumeAt = offset / LINE_BYTES;
  await again.waitFor('the rest of the file', () => again.records.length >= LINES - resumeAt, 60_000);
  const counts = sequenceCounts(again.records, () => 'app');
  const rest = new Map([...(counts.get('app') ?? [])].map(([seq, n]) => [seq - resumeAt, n]));
  assert.deepEqual(gaps(rest, LINES - resumeAt), { missing: [], repeated: [] });
  assert.equal(again.records.length, LINES - resumeAt, 'records before the checkpoint were sent again');
  assert.equal((await again.stop()).code, 0);
});
