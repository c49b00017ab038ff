import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Liveness } from '../../../agent/server/liveness.ts';

const MINUTE = 60_000;

test('an output that answers but refuses for an hour keeps the agent alive: each finished request counts', () => {
  let now = 0;
  const liveness = new Liveness(5 * MINUTE, () => now);
  // Elasticsearch answers 429 or a cluster block every 30 s (retry_max_backoff_ms); nothing is acknowledged.
  for (let t = 0; t < 60 * MINUTE; t += 30_000) {
    now = t;
    liveness.moved();
    assert.deepEqual(liveness.check(true), { ok: true });
  }
});

test('records waiting with nothing moving at all for 5 minutes: wedged, with the reason', () => {
  let now = 0;
  const liveness = new Liveness(5 * MINUTE, () => now);
  now = 5 * MINUTE;
  assert.equal(liveness.check(true).ok, true);
  now = 5 * MINUTE + 1000;
  const health = liveness.check(true);
  assert.equal(health.ok, false);
  assert.match(String(health.reason), /no batch was acknowledged and no output request finished for 301 s/);
  assert.deepEqual(liveness.check(false), { ok: true }, 'nothing to deliver: nothing is wedged');
  liveness.moved();
  assert.deepEqual(liveness.check(true), { ok: true });
});
