/**
 * The soak (test/soak/run-soak.ts) for about a minute, so CI guards the guarantee: under kill -9,
 * rotation, 429s, an outage, a 413, new and deleted pods, container restarts and random bytes,
 * every written line is in the index exactly once. `npm run soak` runs the long version.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSoakReport } from '../soak/format-soak-report.ts';
import { DEFAULT_SOAK_OPTIONS, runSoak } from '../soak/run-soak.ts';

test('short soak: kill -9, rotation, 429s, an outage and a 413: every line indexed exactly once', { timeout: 180_000 }, async (t) => {
  const r = await runSoak({
    ...DEFAULT_SOAK_OPTIONS,
    seconds: 40,
    containers: 30,
    linesPerSecond: 1000,
    outageSeconds: 10,
    killEveryMs: [4000, 8000],
    drainTimeoutMs: 60_000,
    seed: 6,
  });
  t.diagnostic(`\n${formatSoakReport(r)}`);
  assert.equal(r.drained, true, 'every line reached the index before the deadline');
  assert.equal(r.missing, 0);
  assert.equal(r.duplicated, 0);
  assert.equal(r.unexpected, 0);
  assert.equal(r.linesIndexed, r.linesWritten);
  assert.equal(r.crashes, 0);
  assert.deepEqual(r.lastExit, { code: 0, signal: null });
  // The faults really happened, or the zeros above prove nothing.
  assert.ok(r.restarts >= 3, `only ${r.restarts} kill -9 restarts`);
  assert.ok(r.rotations >= 3, `only ${r.rotations} rotations`);
  assert.ok(r.answers.items429 > 0, 'no item was answered 429');
  assert.ok(r.answers.items409 > 0, 'no replay after a kill was answered 409');
  assert.ok(r.answers.requests413 >= 1, 'no request was answered 413');
  assert.equal(r.answers.refusedDuringOutage, true);
  assert.ok(r.deletedPods >= 1 && r.newPods >= 1 && r.containerRestarts >= 1, 'pods added, deleted and restarted');
  assert.ok(r.randomBytesDocuments > 0, 'the random bytes were shipped as records');
});
