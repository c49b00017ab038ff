import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShutdownError } from '../../../../agent/core/errors.ts';
import { AdaptiveConcurrency } from '../../../../agent/sink/elasticsearch/adaptive-concurrency.ts';

test('at most `limit` in flight; a release lets the next one in', async () => {
  const c = new AdaptiveConcurrency(2);
  await c.acquire();
  await c.acquire();
  let third = false;
  const p = c.acquire().then(() => (third = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(third, false);
  c.release();
  await p;
  assert.equal(third, true);
  assert.equal(c.inFlight(), 2);
});

test('halved on push-back, grows by one after 4 x limit clean answers, never above the maximum', () => {
  const c = new AdaptiveConcurrency(8);
  c.decrease();
  assert.equal(c.limit(), 4);
  c.decrease();
  c.decrease();
  c.decrease();
  assert.equal(c.limit(), 1);
  for (let i = 0; i < 3; i++) c.succeeded();
  assert.equal(c.limit(), 1);
  c.succeeded();
  assert.equal(c.limit(), 2);
  for (let i = 0; i < 1000; i++) c.succeeded();
  assert.equal(c.limit(), 8);
});

test('close rejects waiters and later acquires with ShutdownError', async () => {
  const c = new AdaptiveConcurrency(1);
  await c.acquire();
  const waiting = c.acquire();
  c.close();
  await assert.rejects(waiting, ShutdownError);
  await assert.rejects(c.acquire(), ShutdownError);
});
