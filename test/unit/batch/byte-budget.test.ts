import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteBudget } from '../../../agent/batch/byte-budget.ts';

/** Whether `p` has settled after the microtasks queued so far. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

test('held bytes go up with take and down with release; full at the limit, not below', () => {
  const b = new ByteBudget(100);
  assert.equal(b.limit, 100);
  assert.equal(b.held(), 0);
  assert.equal(b.full(), false);
  b.take(99);
  assert.equal(b.full(), false);
  b.take(1);
  assert.equal(b.held(), 100);
  assert.equal(b.full(), true);
  b.take(50); // one read may overshoot: the reader waited for room before it, not for its size
  assert.equal(b.held(), 150);
  b.release(51);
  assert.equal(b.held(), 99);
  assert.equal(b.full(), false);
});

test('room() resolves at once with room, and otherwise only once a release brings held below the limit', async () => {
  const b = new ByteBudget(100);
  assert.equal(await settled(b.room()), true);
  b.take(130);
  const one = b.room();
  const two = b.room();
  assert.equal(await settled(one), false);
  b.release(30); // exactly at the limit: still full
  assert.equal(await settled(one), false);
  b.release(1);
  assert.equal(await settled(one), true);
  assert.equal(await settled(two), true);
  assert.equal(b.held(), 99);
});

test('wakeAll() releases every waiter at shutdown even though the budget is still full', async () => {
  const b = new ByteBudget(10);
  b.take(10);
  const waiting = [b.room(), b.room(), b.room()];
  assert.deepEqual(await Promise.all(waiting.map(settled)), [false, false, false]);
  b.wakeAll();
  assert.deepEqual(await Promise.all(waiting.map(settled)), [true, true, true]);
  assert.equal(b.full(), true);
  // After wakeAll a new waiter waits again, for a real release.
  const late = b.room();
  b.release(10);
  assert.equal(await settled(late), true);
});
