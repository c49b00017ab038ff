import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckTracker, type Segment } from '../../../agent/checkpoint/ack-tracker.ts';

test('a new tracker starts acknowledged up to its offset, with nothing in flight', () => {
  const t = new AckTracker(4096);
  assert.equal(t.acked, 4096);
  assert.equal(t.inFlight(), 0);
});

test('acks in order move the offset segment by segment and report how far it moved', () => {
  const t = new AckTracker(0);
  const a = t.open(100);
  const b = t.open(250);
  assert.equal(t.inFlight(), 2);
  assert.equal(t.ack(a), 100);
  assert.equal(t.acked, 100);
  assert.equal(t.inFlight(), 1);
  assert.equal(t.ack(b), 150);
  assert.equal(t.acked, 250);
  assert.equal(t.inFlight(), 0);
});

test('out-of-order acks wait for every earlier segment, then move past all contiguous done ones', () => {
  const t = new AckTracker(10);
  const a = t.open(20);
  const b = t.open(30);
  const c = t.open(40);
  const d = t.open(50);
  assert.equal(t.ack(c), 0);
  assert.equal(t.acked, 10);
  assert.equal(t.ack(b), 0);
  assert.equal(t.acked, 10);
  assert.equal(t.inFlight(), 4);
  assert.equal(t.ack(a), 30); // a, b and c are done: up to c's resume
  assert.equal(t.acked, 40);
  assert.equal(t.inFlight(), 1);
  assert.equal(t.ack(d), 10);
  assert.equal(t.acked, 50);
});

test('a segment’s resume may still move while its batch fills; the ack uses the value at ack time', () => {
  const t = new AckTracker(0);
  const s = t.open(0);
  s.resume = 70;
  s.resume = 90;
  assert.equal(t.ack(s), 90);
  assert.equal(t.acked, 90);
});

test('a segment whose resume is behind the offset (opened before a later segment was acked) never moves it back', () => {
  const t = new AckTracker(100);
  const stale = t.open(100);
  assert.equal(t.ack(stale), 0);
  const s = t.open(80);
  assert.equal(t.ack(s), 0);
  assert.equal(t.acked, 100);
});

test('acking a segment twice changes nothing', () => {
  const t = new AckTracker(0);
  const a = t.open(5);
  const b = t.open(9);
  t.ack(b);
  t.ack(b);
  assert.equal(t.acked, 0);
  assert.equal(t.inFlight(), 2);
  assert.equal(t.ack(a), 9);
  assert.equal(t.ack(a), 0);
  assert.equal(t.inFlight(), 0);
});

test('thousands of segments acknowledged in reverse, then in order, keep exact values (compaction past 1024)', () => {
  const t = new AckTracker(0);
  const blocked = t.open(1);
  const segments = Array.from({ length: 3000 }, (_, i) => t.open(2 + i));
  for (let i = segments.length - 1; i >= 0; i--) assert.equal(t.ack(segments[i] as Segment), 0);
  assert.equal(t.inFlight(), 3001);
  assert.equal(t.ack(blocked), 3001);
  assert.equal(t.acked, 3001);
  assert.equal(t.inFlight(), 0);

  // In order with one straggler kept open: the head passes 1024 and the list is compacted.
  const more = Array.from({ length: 2000 }, (_, i) => t.open(4000 + i));
  const tail = t.open(9999);
  for (const s of more) t.ack(s);
  assert.equal(t.acked, 5999);
  assert.equal(t.inFlight(), 1);
  const after = t.open(10_500);
  assert.equal(t.ack(after), 0);
  assert.equal(t.inFlight(), 2);
  assert.equal(t.ack(tail), 10_500 - 5999);
  assert.equal(t.inFlight(), 0);
});
