import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../../../agent/sink/elasticsearch/backoff-delay.ts';
import { retryAfterMs } from '../../../../agent/sink/elasticsearch/retry-after.ts';

test('full jitter: uniform in [0, min(cap, base * 2^attempt)]', () => {
  const top = () => 0.999999;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 10, 100].map((a) => backoffDelay(a, 100, 1000, top)), [99, 199, 399, 799, 999, 999, 999, 999]);
  assert.deepEqual([0, 3, 50].map((a) => backoffDelay(a, 100, 1000, () => 0)), [0, 0, 0]);
  assert.equal(backoffDelay(2, 100, 1000, () => 0.5), 200);
});

test('a floor (the server\'s Retry-After) wins over a smaller jitter', () => {
  assert.equal(backoffDelay(0, 100, 1000, () => 0.1, 2000), 2000);
  assert.equal(backoffDelay(3, 100, 1000, () => 0.5, 100), 400);
});

test('Retry-After: seconds or an HTTP date, capped; junk is ignored', () => {
  const now = Date.parse('2024-03-05T10:00:00Z');
  assert.equal(retryAfterMs('3', now), 3000);
  assert.equal(retryAfterMs(['7'], now), 7000);
  assert.equal(retryAfterMs('Tue, 05 Mar 2024 10:00:30 GMT', now), 30_000);
  assert.equal(retryAfterMs('Tue, 05 Mar 2024 09:00:00 GMT', now), 0);
  assert.equal(retryAfterMs('86400', now), 300_000);
  assert.equal(retryAfterMs(undefined, now), undefined);
  assert.equal(retryAfterMs('soon', now), undefined);
  assert.equal(retryAfterMs('', now), undefined);
});
