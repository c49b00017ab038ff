import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from '../../../agent/tail/line-splitter.ts';
import { SeededRandom } from '../decode/seeded-random.ts';

type Line = readonly [text: string, start: number, end: number, cut: boolean];

/** The lines of a whole file, split at once: what any chunking must reproduce. */
function reference(content: Buffer, max: number): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < content.length) {
    const nl = content.indexOf(10, start);
    const stop = nl < 0 ? content.length : nl;
    const end = nl < 0 ? content.length : nl + 1;
    const cut = stop - start > max;
    lines.push([content.toString('latin1', start, cut ? start + max : stop), start, end, cut]);
    start = end;
  }
  return lines;
}

/** Lines full of newlines, runs of empty lines and lines around, at and past `max`. */
function randomContent(rng: SeededRandom, max: number): Buffer {
  const parts: string[] = [];
  const count = rng.int(30);
  for (let i = 0; i < count; i++) {
    const shape = rng.int(4);
    const length = shape === 0 ? 0 : shape === 1 ? max - 1 + rng.int(3) : shape === 2 ? rng.int(max * 3 + 1) : rng.int(5);
    let line = '';
    for (let j = 0; j < length; j++) line += String.fromCharCode(97 + rng.int(26));
    parts.push(line);
  }
  // Half the files end without a newline, so finish() is exercised too.
  return Buffer.from(parts.join('\n') + (rng.int(2) === 0 ? '\n' : ''), 'latin1');
}

test('any chunking of random content gives the lines of a whole-buffer split, byte for byte', () => {
  const rng = new SeededRandom(20261122);
  const chunk = Buffer.alloc(128); // reused for every push, and scribbled over after each
  for (let round = 0; round < 3000; round++) {
    const max = 1 + rng.int(40);
    const content = randomContent(rng, max);
    const base = rng.int(1000);
    const splitter = new LineSplitter(max);
    const got: Line[] = [];
    const onLine = (buf: Buffer, from: number, to: number, start: number, end: number, cut: boolean) =>
      void got.push([buf.toString('latin1', from, to), start, end, cut]);
    let at = 0;
    while (at < content.length) {
      const n = Math.min(content.length - at, 1 + rng.int(rng.int(2) === 0 ? 8 : chunk.length));
      content.copy(chunk, 0, at, at + n);
      splitter.push(chunk.subarray(0, n), base + at, onLine);
      chunk.fill(0x23);
      at += n;
      const pending = splitter.pendingStart();
      if (pending !== undefined) assert.ok(pending >= base && pending < base + at, `round ${round}: pendingStart ${pending}`);
      assert.ok(splitter.pendingBytes() <= max, `round ${round}: ${splitter.pendingBytes()} bytes held, max ${max}`);
    }
    splitter.finish(base + content.length, onLine);
    const expected = reference(content, max).map(([text, start, end, cut]): Line => [text, base + start, base + end, cut]);
    assert.deepEqual(got, expected, `round ${round}: max ${max}, content ${JSON.stringify(content.toString('latin1'))}`);
  }
});
