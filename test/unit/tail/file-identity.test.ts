import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINGERPRINT_BYTES, fileKey, fingerprint, fingerprintOf } from '../../../agent/tail/file-identity.ts';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-file-identity-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The fingerprint of a file as it is on disk now, through a fresh descriptor. */
async function fingerprintFile(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const st = await stat(path);
    return await fingerprint(fh, fileKey(st.dev, st.ino));
  } finally {
    await fh.close();
  }
}

test('fileKey is <dev>:<ino>, for numbers and bigints alike', () => {
  assert.equal(fileKey(2049, 131_075), '2049:131075');
  assert.equal(fileKey(2049n, 18_446_744_073_709_551_615n), '2049:18446744073709551615');
});

test('fingerprintOf hashes the inode, a NUL and the first line with its newline, to 16 base64url characters', () => {
  const expected = createHash('sha256').update('2').update('\0').update('first\n').digest('base64url').slice(0, 16);
  assert.equal(fingerprintOf(Buffer.from('first\nsecond\n'), '1:2'), expected);
  assert.match(expected, /^[A-Za-z0-9_-]{16}$/);
  // Only the first line counts; the key does too.
  assert.equal(fingerprintOf(Buffer.from('first\nother'), '1:2'), expected);
  assert.notEqual(fingerprintOf(Buffer.from('first\n'), '1:3'), expected);
  // Not the device: it may change across a reboot, and the ids built on the fingerprint must not.
  assert.equal(fingerprintOf(Buffer.from('first\n'), '9:2'), expected);
});

test('a head without a newline is fingerprinted only once it has FINGERPRINT_BYTES bytes, and then from exactly those', () => {
  assert.equal(FINGERPRINT_BYTES, 256);
  assert.equal(fingerprintOf(Buffer.alloc(0), 'k'), undefined);
  assert.equal(fingerprintOf(Buffer.alloc(255, 'a'), 'k'), undefined);
  const full = fingerprintOf(Buffer.alloc(256, 'a'), 'k');
  const expected = createHash('sha256').update('k').update('\0').update(Buffer.alloc(256, 'a')).digest('base64url').slice(0, 16);
  assert.equal(full, expected);
  assert.equal(fingerprintOf(Buffer.alloc(300, 'a'), 'k'), expected);
});

test('a file with no newline under 256 bytes has no fingerprint; once its first line ends it is fixed as the file grows', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'a.log');
  await writeFile(path, '');
  assert.equal(await fingerprintFile(path), undefined);
  await writeFile(path, 'x'.repeat(255));
  assert.equal(await fingerprintFile(path), undefined);
  await writeFile(path, 'starting up\n');
  const first = await fingerprintFile(path);
  assert.equal(typeof first, 'string');
  await appendFile(path, 'more\n'.repeat(200));
  assert.equal(await fingerprintFile(path), first);
  await appendFile(path, 'y'.repeat(10_000));
  assert.equal(await fingerprintFile(path), first);
});

test('a first line longer than 256 bytes fixes the fingerprint at 256 bytes, before the line even ends', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'long.log');
  await writeFile(path, 'z'.repeat(256));
  const early = await fingerprintFile(path);
  assert.equal(typeof early, 'string');
  await appendFile(path, 'z'.repeat(1000) + '\nnext\n');
  assert.equal(await fingerprintFile(path), early);
});

test('two files with different first lines differ, even under the same key; the same first line under another key differs too', async (t) => {
  const dir = await tempDir(t);
  const a = join(dir, 'a.log');
  const b = join(dir, 'b.log');
  await writeFile(a, 'hello\nsame\n');
  await writeFile(b, 'hellO\nsame\n');
  const fa = await open(a, 'r');
  const fb = await open(b, 'r');
  t.after(() => Promise.all([fa.close(), fb.close()]));
  const onA = await fingerprint(fa, '7:7');
  const onB = await fingerprint(fb, '7:7');
  assert.equal(typeof onA, 'string');
  assert.notEqual(onA, onB);
  assert.notEqual(await fingerprint(fa, '7:8'), onA);
  assert.equal(await fingerprint(fa, '7:7'), fingerprintOf(Buffer.from('hello\n'), '7:7'));
});
