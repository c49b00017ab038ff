import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from '../../../agent/tail/line-splitter.ts';

/** A line as the splitter reported it, its bytes copied (views are only valid during the callback). */
interface Line {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly cut: boolean;
}

function collector(): { lines: Line[]; onLine: (buf: Buffer, from: number, to: number, start: number, end: number, cut: boolean) => void } {
  const lines: Line[] = [];
  return {
    lines,
    onLine: (buf, from, to, start, end, cut) => void lines.push({ text: buf.toString('latin1', from, to), start, end, cut }),
  };
}

test('lines inside one chunk are reported with their exact offsets, empty lines included', () => {
  const s = new LineSplitter(100);
  const { lines, onLine } = collector();
  s.push(Buffer.from('one\n\ntwo three\n'), 1000, onLine);
  assert.deepEqual(lines, [
    { text: 'one', start: 1000, end: 1004, cut: false },
    { text: '', start: 1004, end: 1005, cut: false },
    { text: 'two three', start: 1005, end: 1015, cut: false },
  ]);
  assert.equal(s.pendingStart(), undefined);
  assert.equal(s.pendingBytes(), 0);
});

test('a line across chunk boundaries survives the caller overwriting its chunk buffer', () => {
  const s = new LineSplitter(100);
  const { lines, onLine } = collector();
  // One buffer, reused for every read, as the tailer does.
  const chunk = Buffer.alloc(6);
  chunk.write('ab\ncde', 'latin1');
  s.push(chunk, 0, onLine);
  assert.equal(s.pendingStart(), 3);
  assert.equal(s.pendingBytes(), 3);
  chunk.fill('X');
  chunk.write('fgh', 'latin1');
  s.push(chunk.subarray(0, 3), 6, onLine);
  assert.equal(s.pendingStart(), 3);
  assert.equal(s.pendingBytes(), 6);
  chunk.fill('Y');
  chunk.write('ij\nk', 'latin1');
  s.push(chunk.subarray(0, 4), 9, onLine);
  chunk.fill('Z');
  assert.deepEqual(lines, [
    { text: 'ab', start: 0, end: 3, cut: false },
    { text: 'cdefghij', start: 3, end: 12, cut: false },
  ]);
  assert.equal(s.pendingStart(), 12);
  assert.equal(s.pendingBytes(), 1);
  s.finish(13, onLine);
  assert.deepEqual(lines[2], { text: 'k', start: 12, end: 13, cut: false });
  assert.equal(s.pendingStart(), undefined);
});

test('a chunk that is only the newline of a carried line ends it', () => {
  const s = new LineSplitter(100);
  const { lines, onLine } = collector();
  s.push(Buffer.from('abc'), 0, onLine);
  s.push(Buffer.from('\n'), 3, onLine);
  assert.deepEqual(lines, [{ text: 'abc', start: 0, end: 4, cut: false }]);
  assert.equal(s.pendingStart(), undefined);
});

test('an over-long line inside a chunk keeps exactly max bytes, is cut, and keeps its real end offset', () => {
  const s = new LineSplitter(4);
  const { lines, onLine } = collector();
  s.push(Buffer.from('abcd\nabcde\nabcdefghij\nxy\n'), 10, onLine);
  assert.deepEqual(lines, [
    { text: 'abcd', start: 10, end: 15, cut: false }, // exactly max: whole
    { text: 'abcd', start: 15, end: 21, cut: true },
    { text: 'abcd', start: 21, end: 32, cut: true },
    { text: 'xy', start: 32, end: 35, cut: false },
  ]);
});

test('an over-long line across chunks keeps max bytes, skips the rest, and holds no more than max', () => {
  const s = new LineSplitter(4);
  const { lines, onLine } = collector();
  s.push(Buffer.from('ab'), 0, onLine);
  s.push(Buffer.from('cdef'), 2, onLine);
  assert.equal(s.pendingBytes(), 4);
  s.push(Buffer.from('ghijklmn'), 6, onLine);
  assert.equal(s.pendingBytes(), 4);
  assert.equal(s.pendingStart(), 0);
  s.push(Buffer.from('op\nz'), 14, onLine);
  assert.deepEqual(lines, [{ text: 'abcd', start: 0, end: 17, cut: true }]);
  assert.equal(s.pendingStart(), 17);
  // The cut flag belongs to that line only.
  s.push(Buffer.from('\n'), 18, onLine);
  assert.deepEqual(lines[1], { text: 'z', start: 17, end: 19, cut: false });
});

test('a tail longer than max at a chunk end is cut when it is carried', () => {
  const s = new LineSplitter(4);
  const { lines, onLine } = collector();
  s.push(Buffer.from('a\nbcdefg'), 0, onLine);
  assert.equal(s.pendingBytes(), 4);
  s.push(Buffer.from('\n'), 8, onLine);
  assert.deepEqual(lines, [
    { text: 'a', start: 0, end: 2, cut: false },
    { text: 'bcde', start: 2, end: 9, cut: true },
  ]);
});

test('a carried line of exactly max bytes is not cut', () => {
  const s = new LineSplitter(4);
  const { lines, onLine } = collector();
  s.push(Buffer.from('ab'), 0, onLine);
  s.push(Buffer.from('cd'), 2, onLine);
  s.push(Buffer.from('\nef\n'), 4, onLine);
  assert.deepEqual(lines, [
    { text: 'abcd', start: 0, end: 5, cut: false },
    { text: 'ef', start: 5, end: 8, cut: false },
  ]);
});

test('finish() reports the unfinished line with the end offset given, cut when it was too long', () => {
  const s = new LineSplitter(3);
  const { lines, onLine } = collector();
  s.finish(0, onLine);
  assert.deepEqual(lines, []);
  s.push(Buffer.from('x\nabcdef'), 5, onLine);
  s.finish(13, onLine);
  assert.deepEqual(lines, [
    { text: 'x', start: 5, end: 7, cut: false },
    { text: 'abc', start: 7, end: 13, cut: true },
  ]);
  assert.equal(s.pendingStart(), undefined);
  assert.equal(s.pendingBytes(), 0);
  s.finish(13, onLine);
  assert.equal(lines.length, 2);
});

test('reset() forgets the unfinished line and its cut flag', () => {
  const s = new LineSplitter(4);
  const { lines, onLine } = collector();
  s.push(Buffer.from('abcdefg'), 100, onLine);
  assert.equal(s.pendingStart(), 100);
  s.reset();
  assert.equal(s.pendingStart(), undefined);
  assert.equal(s.pendingBytes(), 0);
  s.push(Buffer.from('xy'), 0, onLine);
  s.push(Buffer.from('\n'), 2, onLine);
  assert.deepEqual(lines, [{ text: 'xy', start: 0, end: 3, cut: false }]);
});

test('a carry grown past 64 KiB is let go after its line, and the next carried line is intact', () => {
  const s = new LineSplitter(200_000);
  const { lines, onLine } = collector();
  s.push(Buffer.alloc(70_000, 'a'), 0, onLine);
  s.push(Buffer.from('\nbc'), 70_000, onLine);
  s.push(Buffer.from('d\n'), 70_003, onLine);
  assert.equal(lines.length, 2);
  assert.deepEqual({ ...lines[0], text: lines[0]?.text.length }, { text: 70_000, start: 0, end: 70_001, cut: false });
  assert.deepEqual(lines[1], { text: 'bcd', start: 70_001, end: 70_005, cut: false });
});

test('the buffer of an unfinished line is let go once the line is complete, however long the line was', () => {
  // Thousands of files are followed at once: each may hold its unfinished line, not a buffer
  // grown for the longest line it ever had.
  const s = new LineSplitter(256 * 1024);
  const { lines, onLine } = collector();
  const long = 'x'.repeat(60_000);
  for (let at = 0; at < long.length; at += 4096) s.push(Buffer.from(long.slice(at, at + 4096), 'latin1'), at, onLine);
  assert.equal(s.pendingBytes(), 60_000);
  assert.ok(s.heldBytes() >= 60_000);
  s.push(Buffer.from('\nshort', 'latin1'), 60_000, onLine);
  assert.deepEqual(lines, [{ text: long, start: 0, end: 60_001, cut: false }]);
  assert.equal(s.pendingBytes(), 5);
  assert.ok(s.heldBytes() < 4096, `${s.heldBytes()} bytes held for a 5-byte line`);
  s.push(Buffer.from('\n', 'latin1'), 60_006, onLine);
  assert.equal(s.heldBytes(), 0);
  s.push(Buffer.from('tail', 'latin1'), 60_007, onLine);
  s.reset();
  assert.equal(s.heldBytes(), 0);
});
