import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Log } from '../../../agent/core/log.ts';
import { CheckpointStore } from '../../../agent/checkpoint/checkpoint-store.ts';

interface Logged {
  readonly level: string;
  readonly fields: object;
  readonly message: string;
}

function captureLog(): { log: Log; logged: Logged[] } {
  const logged: Logged[] = [];
  const at = (level: string) => (fields: object, message: string) => void logged.push({ level, fields, message });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, logged };
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-checkpoint-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const A = { offset: 1234, fingerprint: 'fpA', path: '/var/log/pods/ns_a_u/c/0.log' };
const B = { offset: 0, fingerprint: 'fpB', path: '/var/log/syslog' };
/** Truncated twice (copytruncate) under the same fingerprint. */
const C = { offset: 77, fingerprint: 'fpC', path: '/var/log/app.log', generation: 2 };

test('a missing state dir is created and a first start is fresh, not recovered', async (t) => {
  const dir = join(await tempDir(t), 'state', 'nested');
  const { log, logged } = captureLog();
  const store = new CheckpointStore(dir, log);
  await store.load();
  assert.equal(store.fresh, true);
  assert.equal(store.recovered, false);
  assert.deepEqual([...store.entries()], []);
  assert.deepEqual(await readdir(dir), []);
  assert.equal(store.path, join(dir, 'checkpoints.json'));
  assert.deepEqual(logged, []);
});

test('round trip: what one store flushes the next one loads, exactly; the file is versioned JSON and no .tmp is left', async (t) => {
  const dir = await tempDir(t);
  const { log, logged } = captureLog();
  const store = new CheckpointStore(dir, log);
  await store.load();
  assert.equal(await store.flush(), false); // nothing changed yet
  store.set('1:10', A);
  store.set('1:11', B);
  store.set('1:13', C);
  assert.equal(await store.flush(), true);
  assert.equal(await store.flush(), false);
  assert.deepEqual(await readdir(dir), ['checkpoints.json']);
  assert.deepEqual(JSON.parse(await readFile(store.path, 'utf8')), { version: 1, files: { '1:10': A, '1:11': B, '1:13': C } });

  const again = new CheckpointStore(dir, log);
  await again.load();
  assert.equal(again.fresh, false);
  assert.equal(again.recovered, false);
  assert.deepEqual(again.get('1:10'), A);
  assert.deepEqual(again.get('1:11'), B);
  assert.deepEqual(again.get('1:13'), C);
  assert.equal(again.get('1:12'), undefined);
  assert.deepEqual([...again.entries()], [['1:10', A], ['1:11', B], ['1:13', C]]);
  assert.deepEqual(logged, []);
});

test('set() of an identical checkpoint is not a change; a changed one is; delete() of a known key is', async (t) => {
  const dir = await tempDir(t);
  const store = new CheckpointStore(dir, captureLog().log);
  await store.load();
  store.set('1:10', A);
  assert.equal(await store.flush(), true);
  store.set('1:10', { ...A });
  assert.equal(await store.flush(), false);
  store.set('1:10', { ...A, offset: 2000 });
  assert.equal(await store.flush(), true);
  store.set('1:10', { ...A, offset: 2000, generation: 1 });
  assert.equal(await store.flush(), true, 'a new generation is a change');
  store.delete('9:9');
  assert.equal(await store.flush(), false);
  store.delete('1:10');
  assert.equal(await store.flush(), true);
  assert.deepEqual(JSON.parse(await readFile(store.path, 'utf8')), { version: 1, files: {} });
});

test('flushes called together write one after the other and the last state wins', async (t) => {
  const dir = await tempDir(t);
  const store = new CheckpointStore(dir, captureLog().log);
  await store.load();
  store.set('1:10', A);
  const first = store.flush();
  store.set('1:10', { ...A, offset: 5000 });
  const second = store.flush();
  assert.deepEqual(await Promise.all([first, second]), [true, true]);
  assert.deepEqual(JSON.parse(await readFile(store.path, 'utf8')).files['1:10'], { ...A, offset: 5000 });
  assert.deepEqual(await readdir(dir), ['checkpoints.json']);
});

const CORRUPT: ReadonlyArray<readonly [string, string]> = [
  ['garbage', '\u0000\u0001 not json at all'],
  ['truncated JSON', JSON.stringify({ version: 1, files: { '1:10': A } }).slice(0, 30)],
  ['an unknown version', JSON.stringify({ version: 2, files: { '1:10': A } })],
  ['no version', JSON.stringify({ files: { '1:10': A } })],
  ['files missing', JSON.stringify({ version: 1 })],
  ['a negative offset', JSON.stringify({ version: 1, files: { '1:10': { ...A, offset: -1 } } })],
  ['a fractional offset', JSON.stringify({ version: 1, files: { '1:10': { ...A, offset: 1.5 } } })],
  ['an offset as a string', JSON.stringify({ version: 1, files: { '1:10': { ...A, offset: '12' } } })],
  ['a missing fingerprint', JSON.stringify({ version: 1, files: { '1:10': { offset: 1, path: '/x' } } })],
  ['a path that is not a string', JSON.stringify({ version: 1, files: { '1:10': { ...A, path: 7 } } })],
  ['a generation of 0 (never written: absent means 0)', JSON.stringify({ version: 1, files: { '1:10': { ...A, generation: 0 } } })],
  ['a fractional generation', JSON.stringify({ version: 1, files: { '1:10': { ...A, generation: 1.5 } } })],
  ['an empty file', ''],
  ['a JSON array', '[]'],
];

for (const [name, text] of CORRUPT) {
  test(`a checkpoint file with ${name} is moved aside, logged once as an error, and the start is fresh`, async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'checkpoints.json'), text);
    const { log, logged } = captureLog();
    const store = new CheckpointStore(dir, log);
    await store.load();
    assert.equal(store.recovered, true);
    assert.equal(store.fresh, true);
    assert.deepEqual([...store.entries()], []);
    const names = await readdir(dir);
    assert.equal(names.length, 1);
    const aside = names[0] as string;
    assert.match(aside, /^checkpoints\.json\.corrupt-\d{4}-\d\d-\d\dT\d{6}\.\d{3}Z$/);
    assert.equal(await readFile(join(dir, aside), 'utf8'), text);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.level, 'error');
    assert.deepEqual(logged[0]?.fields, { path: join(dir, 'checkpoints.json'), reason: 'invalid', movedTo: join(dir, aside) });
    // The store works on: a new checkpoint file is written next to the one set aside.
    store.set('1:10', A);
    assert.equal(await store.flush(), true);
    assert.deepEqual((await readdir(dir)).sort(), ['checkpoints.json', aside].sort());
  });
}

test('an entry that is null is a corrupt file too (moved aside), not a crash of load()', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'checkpoints.json'), JSON.stringify({ version: 1, files: { '1:10': null } }));
  const { log, logged } = captureLog();
  const store = new CheckpointStore(dir, log);
  await store.load();
  assert.equal(store.recovered, true);
  assert.equal(logged.length, 1);
});

test('a failed flush rejects and keeps the entries dirty, so the next flush writes them', async (t) => {
  const dir = await tempDir(t);
  const store = new CheckpointStore(dir, captureLog().log);
  await store.load();
  store.set('1:10', A);
  assert.equal(await store.flush(), true);
  store.set('1:10', { ...A, offset: 9999 });
  store.set('1:11', B);
  // The temporary file's name taken by a directory: open(..., 'w') fails (EISDIR), as root too.
  const tmp = join(dir, 'checkpoints.json.tmp');
  await mkdir(tmp);
  await assert.rejects(store.flush(), { code: 'EISDIR' });
  assert.deepEqual(JSON.parse(await readFile(store.path, 'utf8')).files, { '1:10': A }); // the old file is intact
  await assert.rejects(store.flush(), { code: 'EISDIR' });
  await rmdir(tmp);
  assert.equal(await store.flush(), true);
  assert.deepEqual(JSON.parse(await readFile(store.path, 'utf8')).files, { '1:10': { ...A, offset: 9999 }, '1:11': B });
  assert.equal(await store.flush(), false);
});

test('a state dir that cannot be created makes load() reject', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'plain-file');
  await writeFile(file, 'x');
  const store = new CheckpointStore(join(file, 'state'), captureLog().log);
  await assert.rejects(store.load(), { code: 'ENOTDIR' });
});

test('a checkpoint file that cannot be read (a directory) is moved aside like a corrupt one, never a failed start', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'checkpoints.json'));
  const { log, logged } = captureLog();
  const store = new CheckpointStore(dir, log);
  await store.load();
  assert.equal(store.recovered, true);
  assert.equal(logged.length, 1);
  assert.equal((logged[0]?.fields as { reason?: string }).reason, 'EISDIR');
  const names = await readdir(dir);
  assert.equal(names.length, 1);
  assert.match(names[0] as string, /^checkpoints\.json\.corrupt-/);
  store.set('1:10', A);
  assert.equal(await store.flush(), true);
});

test('a state dir removed under the store makes flush() reject; once it is back, the same changes are written', async (t) => {
  const dir = join(await tempDir(t), 'state');
  const store = new CheckpointStore(dir, captureLog().log);
  await store.load();
  store.set('1:10', A);
  await rm(dir, { recursive: true });
  await assert.rejects(store.flush(), { code: 'ENOENT' });
  await mkdir(dir);
  assert.equal(await store.flush(), true);
  assert.deepEqual(JSON.parse(await readFile(store.path, 'utf8')), { version: 1, files: { '1:10': A } });
  assert.deepEqual(await readdir(dir), ['checkpoints.json']);
});
