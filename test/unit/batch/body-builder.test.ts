import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyBuilder } from '../../../agent/batch/body-builder.ts';

/** BodyBuilder's buffers are maxBytes plus this much room. */
const SLACK = 256 * 1024;

test('items are written one after another as UTF-8, with their end offsets and byte counts', () => {
  const b = new BodyBuilder(1024);
  assert.equal(b.write('{"a":1}\n'), 8);
  assert.equal(b.write('é日\n'), 6);
  assert.equal(b.write(''), 0);
  assert.equal(b.items, 3);
  assert.equal(b.bytes, 14);
  const { body, ends } = b.take();
  assert.equal(body.toString('utf8'), '{"a":1}\né日\n');
  assert.deepEqual(ends, Uint32Array.of(8, 14, 14));
  assert.equal(b.items, 0);
  assert.equal(b.bytes, 0);
});

test('an empty builder takes an empty body', () => {
  const b = new BodyBuilder(1024);
  const { body, ends } = b.take();
  assert.equal(body.length, 0);
  assert.deepEqual(ends, new Uint32Array(0));
});

test('item ends grow past their first room; each batch keeps its own, exactly as long as its items', () => {
  const b = new BodyBuilder(1 << 20);
  for (let i = 0; i < 3000; i++) b.write('x\n');
  const full = b.take();
  assert.equal(full.ends.length, 3000);
  assert.deepEqual([full.ends[0], full.ends[1], full.ends[2999]], [2, 4, 6000]);
  b.write('yy\n');
  b.write('z\n');
  const small = b.take();
  assert.deepEqual(small.ends, Uint32Array.of(3, 5));
  assert.equal(small.ends.buffer.byteLength, 2 * 4, 'a few ends are copied out, not a view of a large array');
  for (let i = 0; i < 3000; i++) b.write('w\n');
  b.take();
  assert.deepEqual([full.ends[0], full.ends[2999]], [2, 6000], 'later batches never write over the ends of an earlier one');
  assert.deepEqual(small.ends, Uint32Array.of(3, 5));
});

test('a body under half its buffer is copied out: the next batch never writes over it', () => {
  const b = new BodyBuilder(1024);
  b.write('first');
  const first = b.take();
  assert.equal(first.body.buffer.byteLength < 1024 + SLACK, true);
  b.write('SECOND');
  const second = b.take();
  assert.equal(first.body.toString(), 'first');
  assert.equal(second.body.toString(), 'SECOND');
});

test('a full body goes out as it is, and its buffer is reused only once recycled', () => {
  const max = 1024;
  const b = new BodyBuilder(max);
  const big = 'x'.repeat((max + SLACK) / 2 + 1);
  b.write(big);
  const first = b.take();
  assert.equal(first.body.buffer.byteLength, max + SLACK);
  assert.equal(first.body.byteOffset, 0);
  b.write(big.replaceAll('x', 'y'));
  const second = b.take();
  assert.notEqual(second.body.buffer, first.body.buffer, 'a fresh buffer while the first is in flight');
  assert.equal(first.body.toString().slice(0, 3), 'xxx');
  b.recycle(first.body);
  b.recycle(first.body); // twice: still handed out once
  b.write(big.replaceAll('x', 'z'));
  const third = b.take();
  assert.equal(third.body.buffer, first.body.buffer, 'the recycled buffer is written again');
  b.write(big);
  const fourth = b.take();
  assert.notEqual(fourth.body.buffer, third.body.buffer, 'a buffer recycled twice is not handed out twice');
});

test('recycle ignores bodies that are not whole buffers of its own size', () => {
  const b = new BodyBuilder(1024);
  b.write('small');
  const small = b.take();
  b.recycle(small.body);
  b.recycle(Buffer.alloc(10));
  const big = 'x'.repeat((1024 + SLACK) / 2 + 1);
  b.write(big);
  const next = b.take();
  assert.equal(next.body.buffer.byteLength, 1024 + SLACK, 'a buffer of its own, not the small body\'s');
  assert.equal(next.body.toString(), big);
});

test('an item larger than the room left grows the buffer and keeps what was written', () => {
  const max = 1024;
  const b = new BodyBuilder(max);
  b.write('head\n');
  const huge = 'é'.repeat(max + SLACK); // two bytes each: twice the buffer
  assert.equal(b.write(huge), 2 * (max + SLACK));
  b.write('tail\n');
  const { body, ends } = b.take();
  assert.deepEqual(ends, Uint32Array.of(5, 5 + 2 * (max + SLACK), 10 + 2 * (max + SLACK)));
  assert.equal(body.toString('utf8', 0, 5), 'head\n');
  assert.equal(body.toString('utf8', ends[0], ends[1]), huge);
  assert.equal(body.toString('utf8', ends[1]), 'tail\n');
  // The next batch starts in a buffer of the usual size again.
  b.write('x'.repeat((max + SLACK) / 2 + 1));
  assert.equal(b.take().body.buffer.byteLength, max + SLACK);
});

test('spares are let go once a small batch shows the rush is over', () => {
  const max = 1024;
  const b = new BodyBuilder(max);
  const big = 'x'.repeat((max + SLACK) / 2 + 1);
  b.write(big);
  const a = b.take();
  b.write(big);
  const c = b.take();
  b.recycle(a.body);
  b.recycle(c.body);
  b.write('small');
  assert.equal(b.take().body.toString(), 'small'); // copied out of the spare it was written into
  b.write(big);
  const d = b.take();
  assert.equal(d.body.buffer, c.body.buffer, 'the buffer the small batch used is still the current one');
  b.write(big);
  const e = b.take();
  assert.notEqual(e.body.buffer, a.body.buffer, 'the other spare was dropped');
  assert.equal(e.body.toString(), big);
});
