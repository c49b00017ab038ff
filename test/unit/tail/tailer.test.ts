import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, open, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogFile, LogRecord } from '../../../agent/core/record.ts';
import { describeFile } from '../../../agent/enrich/path-metadata.ts';
import { fileKey, fingerprintOf } from '../../../agent/tail/file-identity.ts';
import { Tailer } from '../../../agent/tail/tailer.ts';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-tailer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A tailer over a real file, closed when the test ends. */
async function openTailer(t: TestContext, path: string, options: { offset?: number; maxRecordBytes?: number; fingerprint?: string } = {}): Promise<Tailer> {
  const fh = await open(path, 'r');
  const st = await fh.stat();
  const tailer = new Tailer({
    key: fileKey(st.dev, st.ino),
    fh,
    paths: [path],
    description: describeFile([path]),
    offset: options.offset ?? 0,
    fingerprint: options.fingerprint,
    generation: 0,
    maxRecordBytes: options.maxRecordBytes ?? 1024,
    emit: (record) => void emitted.push(record),
  });
  const emitted: LogRecord[] = [];
  emittedBy.set(tailer, emitted);
  t.after(async () => {
    if (tailer.state !== 'closed') await tailer.close();
  });
  return tailer;
}

/** The records each tailer emitted, not yet taken by `read` or `finish`. */
const emittedBy = new WeakMap<Tailer, LogRecord[]>();

function takeEmitted(tailer: Tailer, count: number): LogRecord[] {
  const emitted = emittedBy.get(tailer) as LogRecord[];
  assert.equal(count, emitted.length, 'the count returned is the records emitted');
  return emitted.splice(0);
}

/** One read: the records it emitted (as they were emitted, in order) and the bytes read. */
async function read(tailer: Tailer, buf: Buffer): Promise<{ records: LogRecord[]; bytes: number }> {
  const { records, bytes } = await tailer.read(buf);
  return { records: takeEmitted(tailer, records), bytes };
}

function finish(tailer: Tailer): LogRecord[] {
  return takeEmitted(tailer, tailer.finish());
}

/** Read through a call, so an earlier `assert.equal(tailer.file, undefined)` does not narrow later reads. */
function fileOf(tailer: Tailer): LogFile | undefined {
  return tailer.file;
}

/** The parts of a record a test compares (time is checked apart, it is the read time). */
function fields(r: LogRecord): object {
  return { offset: r.offset, resume: r.resume, message: r.message, stream: r.stream, truncated: r.truncated, error: r.error };
}

/** Reads until the end of the file (a bounded number of reads). */
async function readAll(tailer: Tailer, buf: Buffer): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  for (let i = 0; i < 10_000; i++) {
    const { records: got, bytes } = await read(tailer, buf);
    records.push(...got);
    if (bytes === 0) return records;
  }
  throw new Error('the file never ended');
}

test('a host file is read as plain text: exact offsets, resume points, read time; the unfinished line waits', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, '');
  const tailer = await openTailer(t, path);
  const buf = Buffer.alloc(64 * 1024);
  assert.equal(tailer.source, 'host');
  assert.equal(tailer.path, path);
  assert.equal(tailer.matchedPath, path);

  // No complete first line yet: nothing is read, the file is not identified.
  assert.deepEqual(await read(tailer, buf), { records: [], bytes: 0 });
  assert.equal(tailer.file, undefined);
  assert.equal(tailer.fingerprint, undefined);

  await writeFile(path, 'first line\nsecond');
  const one = await read(tailer, buf);
  assert.equal(one.bytes, 17);
  assert.deepEqual(one.records.map(fields), [
    { offset: 0, resume: 11, message: 'first line', stream: undefined, truncated: false, error: undefined },
  ]);
  assert.match(one.records[0]?.time ?? '', ISO);
  assert.equal(tailer.offset, 17);
  assert.equal(tailer.size, 17);
  assert.equal(tailer.pendingStart(), 11);
  const st = await stat(path);
  const key = fileKey(st.dev, st.ino);
  const file = fileOf(tailer);
  assert.deepEqual(file, { key, idPrefix: fingerprintOf(Buffer.from('first line\n'), key), path, matchedPath: path, source: 'host', meta: {} });
  assert.equal(tailer.fingerprint, file?.idPrefix);
  assert.equal(one.records[0]?.file, file);

  await appendFile(path, ' half\r\nthird\n');
  const two = await read(tailer, buf);
  assert.equal(two.bytes, 13);
  assert.deepEqual(two.records.map(fields), [
    { offset: 11, resume: 24, message: 'second half', stream: undefined, truncated: false, error: undefined },
    { offset: 24, resume: 30, message: 'third', stream: undefined, truncated: false, error: undefined },
  ]);
  assert.equal(tailer.pendingStart(), undefined);
  assert.deepEqual(await read(tailer, buf), { records: [], bytes: 0 });
  assert.equal(await tailer.stat(), 30);
});

test('reading from a checkpoint offset skips what was acknowledged; the identity still comes from the file head', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, 'first\nsecond\nthird\n');
  const tailer = await openTailer(t, path, { offset: 6, fingerprint: 'from-checkpoint' });
  assert.equal(tailer.fingerprint, 'from-checkpoint');
  assert.equal(tailer.acks.acked, 6);
  const records = await readAll(tailer, Buffer.alloc(4096));
  assert.deepEqual(records.map(fields), [
    { offset: 6, resume: 13, message: 'second', stream: undefined, truncated: false, error: undefined },
    { offset: 13, resume: 19, message: 'third', stream: undefined, truncated: false, error: undefined },
  ]);
  assert.equal(tailer.fingerprint, fingerprintOf(Buffer.from('first\n'), tailer.key));
});

test('a small read buffer splits lines across reads without changing a record', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  const lines = Array.from({ length: 50 }, (_, i) => `line number ${i} ${'x'.repeat(i % 13)}`);
  await writeFile(path, lines.map((l) => l + '\n').join(''));
  const tailer = await openTailer(t, path);
  const records = await readAll(tailer, Buffer.alloc(7));
  assert.deepEqual(records.map((r) => r.message), lines);
  let at = 0;
  for (const [i, r] of records.entries()) {
    assert.equal(r.offset, at, `record ${i}`);
    at += Buffer.byteLength(lines[i] as string) + 1;
    assert.equal(r.resume, at, `record ${i}`);
  }
});

test('a line longer than maxRecordBytes is cut to it and flagged truncated; the next line is whole', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, 'ok\n' + 'abcdefghijklmnop\n' + 'after\n');
  const tailer = await openTailer(t, path, { maxRecordBytes: 8 });
  const records = await readAll(tailer, Buffer.alloc(5));
  assert.deepEqual(records.map(fields), [
    { offset: 0, resume: 3, message: 'ok', stream: undefined, truncated: false, error: undefined },
    { offset: 3, resume: 20, message: 'abcdefgh', stream: undefined, truncated: true, error: undefined },
    { offset: 20, resume: 26, message: 'after', stream: undefined, truncated: false, error: undefined },
  ]);
});

test('a CRI file under /pods/ gets its pod metadata, its stream and the time of the line', async (t) => {
  const dir = await tempDir(t);
  const podDir = join(dir, 'pods', 'shop_web-7d9f_0c7a1f9e-4b1d-4c51-9f3b-2d1f8d1a2b3c', 'nginx');
  await mkdir(podDir, { recursive: true });
  const path = join(podDir, '0.log');
  const l1 = '2026-11-22T10:00:00.123456789Z stdout F hello\n';
  const l2 = '2026-11-22T10:00:01.000000000Z stderr P par';
  const l3 = '2026-11-22T10:00:02.000000000Z stderr F tial\n';
  await writeFile(path, l1 + l2 + '\n' + l3);
  const tailer = await openTailer(t, path);
  assert.equal(tailer.source, 'pods');
  const records = await readAll(tailer, Buffer.alloc(4096));
  assert.deepEqual(records.map((r) => ({ ...fields(r), time: r.time })), [
    { offset: 0, resume: l1.length, message: 'hello', stream: 'stdout', truncated: false, error: undefined, time: '2026-11-22T10:00:00.123456789Z' },
    { offset: l1.length, resume: l1.length + l2.length + 1 + l3.length, message: 'partial', stream: 'stderr', truncated: false, error: undefined, time: '2026-11-22T10:00:01.000000000Z' },
  ]);
  assert.deepEqual(tailer.file?.meta, { namespace: 'shop', pod: 'web-7d9f', podUid: '0c7a1f9e-4b1d-4c51-9f3b-2d1f8d1a2b3c', container: 'nginx', restartCount: 0 });
});

test('finish() turns the unfinished last line into a record that ends at the end of the file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, 'done\nno newline');
  const tailer = await openTailer(t, path);
  assert.deepEqual(finish(tailer), []); // not identified yet: nothing to finish
  const records = await readAll(tailer, Buffer.alloc(4096));
  assert.deepEqual(records.map((r) => r.message), ['done']);
  assert.equal(tailer.pendingStart(), 5);
  const last = finish(tailer);
  assert.deepEqual(last.map(fields), [{ offset: 5, resume: 15, message: 'no newline', stream: undefined, truncated: false, error: undefined }]);
  assert.equal(tailer.pendingStart(), undefined);
  await tailer.close();
  assert.equal(tailer.state, 'closed');
});

test('truncated() starts again at 0 with a new tracker and a new identity for new content', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, 'old first\nold second\nhalf');
  const tailer = await openTailer(t, path);
  const buf = Buffer.alloc(4096);
  await readAll(tailer, buf);
  const oldFile = tailer.file;
  const oldAcks = tailer.acks;
  const oldSegment = oldAcks.open(21);
  assert.equal(tailer.pendingStart(), 21);

  await truncate(path, 0);
  await writeFile(path, 'new first\n');
  assert.equal(await tailer.stat(), 10);
  tailer.truncated();
  assert.equal(tailer.offset, 0);
  assert.equal(tailer.file, undefined);
  assert.equal(tailer.pendingStart(), undefined);
  assert.notEqual(tailer.acks, oldAcks);
  assert.equal(tailer.acks.acked, 0);
  // A late acknowledgement of the old content moves only the old tracker.
  oldAcks.ack(oldSegment);
  assert.equal(oldAcks.acked, 21);
  assert.equal(tailer.acks.acked, 0);

  const records = await readAll(tailer, buf);
  assert.deepEqual(records.map(fields), [{ offset: 0, resume: 10, message: 'new first', stream: undefined, truncated: false, error: undefined }]);
  const newFile = fileOf(tailer);
  assert.notEqual(newFile, oldFile);
  // The first truncation: generation 1, in the ids and in the checkpoint.
  const fingerprint = fingerprintOf(Buffer.from('new first\n'), tailer.key);
  assert.equal(newFile?.idPrefix, `${fingerprint}.1`);
  assert.notEqual(newFile?.idPrefix, oldFile?.idPrefix);
  assert.equal(records[0]?.file, newFile);
  assert.deepEqual(tailer.checkpoint(10), { offset: 10, fingerprint, path, matchedPath: path, generation: 1 });
});

test('truncated() with the same first line written again: the same fingerprint, a new _id prefix', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, 'banner\nold\n');
  const tailer = await openTailer(t, path);
  const buf = Buffer.alloc(4096);
  await readAll(tailer, buf);
  const fingerprint = fingerprintOf(Buffer.from('banner\n'), tailer.key);
  assert.equal(fileOf(tailer)?.idPrefix, fingerprint);
  assert.deepEqual(tailer.checkpoint(11), { offset: 11, fingerprint, path, matchedPath: path });

  await truncate(path, 0);
  await writeFile(path, 'banner\nnew\n');
  tailer.truncated();
  const records = await readAll(tailer, buf);
  assert.deepEqual(records.map((r) => [r.offset, r.message, r.file.idPrefix]), [[0, 'banner', `${fingerprint}.1`], [7, 'new', `${fingerprint}.1`]]);
  assert.deepEqual(tailer.checkpoint(11), { offset: 11, fingerprint, path, matchedPath: path, generation: 1 });
});

test('a first line over 256 bytes waits for its newline before the format is told; one over 64 KiB does not wait', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  await writeFile(path, 'a'.repeat(300));
  const tailer = await openTailer(t, path, { maxRecordBytes: 100_000 });
  const buf = Buffer.alloc(4096);
  assert.deepEqual(await read(tailer, buf), { records: [], bytes: 0 });
  assert.equal(tailer.file, undefined);
  await appendFile(path, '\nb\n');
  assert.deepEqual((await readAll(tailer, buf)).map(fields), [
    { offset: 0, resume: 301, message: 'a'.repeat(300), stream: undefined, truncated: false, error: undefined },
    { offset: 301, resume: 303, message: 'b', stream: undefined, truncated: false, error: undefined },
  ]);

  const huge = join(dir, 'huge.log');
  await writeFile(huge, 'h'.repeat(64 * 1024 + 10));
  const other = await openTailer(t, huge, { maxRecordBytes: 1024 });
  assert.deepEqual(await readAll(other, buf), []);
  assert.equal(other.file?.idPrefix, fingerprintOf(Buffer.alloc(256, 'h'), other.key));
  assert.equal(other.pendingStart(), 0);
  await appendFile(huge, '\n');
  assert.deepEqual((await readAll(other, buf)).map(fields), [
    { offset: 0, resume: 64 * 1024 + 11, message: 'h'.repeat(1024), stream: undefined, truncated: true, error: undefined },
  ]);
});

test('a docker json-file is decoded as docker, with its container id from the path', async (t) => {
  const dir = await tempDir(t);
  const id = 'f'.repeat(64);
  const folder = join(dir, 'containers', id);
  await mkdir(folder, { recursive: true });
  const path = join(folder, `${id}-json.log`);
  const l1 = '{"log":"hello\\n","stream":"stdout","time":"2026-11-22T10:00:00.5Z"}\n';
  const l2 = '{"log":"oops\\n","stream":"stderr","time":"2026-11-22T10:00:01Z"}\n';
  await writeFile(path, l1 + l2);
  const tailer = await openTailer(t, path);
  assert.equal(tailer.source, 'docker');
  const records = await readAll(tailer, Buffer.alloc(4096));
  assert.deepEqual(records.map((r) => ({ ...fields(r), time: r.time })), [
    { offset: 0, resume: l1.length, message: 'hello', stream: 'stdout', truncated: false, error: undefined, time: '2026-11-22T10:00:00.5Z' },
    { offset: l1.length, resume: l1.length + l2.length, message: 'oops', stream: 'stderr', truncated: false, error: undefined, time: '2026-11-22T10:00:01Z' },
  ]);
  assert.deepEqual(tailer.file?.meta, { containerId: id });
});
