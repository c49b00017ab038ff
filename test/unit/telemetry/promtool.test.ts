import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { createMetrics } from '../../../agent/telemetry/metrics.ts';

/**
 * Prometheus' own linter on everything /metrics serves: names (`_total` only on counters, base
 * units), help texts, types. promtool comes from Debian's `prometheus` package, which `.ci/run`
 * installs: in CI (CI set) a missing promtool fails the test; elsewhere the test says it skipped.
 */
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const missing = promtool.error !== undefined || promtool.status !== 0;
const inCi = (process.env.CI ?? '') !== '';

test('promtool check metrics finds nothing to say about the agent\'s metrics', { skip: missing && !inCi && 'promtool not installed (apt-get install --no-install-recommends prometheus)' }, async () => {
  assert.ok(!missing, `promtool is missing in CI: .ci/run must install Debian's prometheus package (${String(promtool.error ?? promtool.stderr)})`);
  const zero = () => 0;
  const metrics = createMetrics({ version: '0.0.0-test', sinkName: 'elasticsearch', state: { heldBytes: zero, budgetBytes: zero, paused: () => false, backlogBytes: zero, oldestUnackedSeconds: zero, activeFiles: zero, podCacheSize: zero } });
  try {
    // Every family with at least one sample, so each is checked with its labels.
    const { observer } = metrics;
    observer.namespaceRecords('default', 1, 10);
    observer.deadLettered('mapping', 1);
    observer.request(0.01, '2xx');
    observer.endToEndDelay(1);
    observer.kubernetesWatchRestart('gone');
    observer.checkpointWrite(false);
    const text = await metrics.render();
    assert.match(text, /^nodetail_output_retried_records_total\{reason="too_many_requests"\} 0$/m);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(`${check.stdout}${check.stderr}`, '', 'promtool found problems');
    assert.equal(check.status, 0);
  } finally {
    metrics.close();
  }
});
