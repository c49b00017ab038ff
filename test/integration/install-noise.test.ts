import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The README's first command, `npm ci`, as a new user runs it: with the machine's own npm and
 * Node (often older than 24), not the Node 24 that npm scripts put first on PATH. A dry run
 * resolves the lock file and checks every package's engines, as the install does, without
 * fetching anything.
 */
test('npm ci on the machine\'s Node prints nothing (no EBADENGINE warnings for the Node 24 the project brings)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-install-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const file of ['package.json', 'package-lock.json', '.npmrc']) await copyFile(join(ROOT, file), join(dir, file));
  const path = (process.env.PATH ?? '').split(delimiter).filter((p) => !p.includes(join('node_modules', '.bin'))).join(delimiter);
  const run = spawnSync('npm', ['ci', '--dry-run', '--offline'], { cwd: dir, env: { PATH: path, HOME: process.env.HOME ?? dir }, encoding: 'utf8' });
  assert.equal(run.error, undefined, 'npm is not on PATH');
  assert.equal(`${run.stdout}${run.stderr}`, '');
  assert.equal(run.status, 0);
});
