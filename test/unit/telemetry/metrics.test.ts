import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PipelineState } from '../../../agent/core/observer.ts';
import { createMetrics, OTHER_LABEL, type Metrics } from '../../../agent/telemetry/metrics.ts';
import { histogramOf, parseFamilies, sampleOf, valueOf, type Families } from './prometheus-text.ts';

interface FakeState {
  held: number;
  budget: number;
  paused: boolean;
  backlog: number;
  oldest: number;
  files: number;
  pods: number;
}

function stateOf(s: FakeState): PipelineState {
  return {
    heldBytes: () => s.held,
    budgetBytes: () => s.budget,
    paused: () => s.paused,
    backlogBytes: () => s.backlog,
    oldestUnackedSeconds: () => s.oldest,
    activeFiles: () => s.files,
    podCacheSize: () => s.pods,
  };
}

const idle = (): FakeState => ({ held: 0, budget: 1024, paused: false, backlog: 0, oldest: 0, files: 0, pods: 0 });

async function withMetrics(
  run: (metrics: Metrics, scrape: () => Promise<Families>) => Promise<void>,
  options: { state?: PipelineState; namespaceLimit?: number } = {},
): Promise<void> {
  const metrics = createMetrics({
    version: '1.2.3',
    sinkName: 'elasticsearch',
    state: options.state ?? stateOf(idle()),
    ...(options.namespaceLimit === undefined ? {} : { namespaceLimit: options.namespaceLimit }),
  });
  try {
    await run(metrics, async () => parseFamilies(await metrics.render()));
  } finally {
    metrics.close();
  }
}

test('input counters add up per source, and sources never touched read 0', async () => {
  await withMetrics(async ({ observer }, scrape) => {
    observer.recordsRead('containers', 3, 300);
    observer.recordsRead('containers', 2, 45);
    observer.recordsRead('host', 7, 700);
    const m = await scrape();
    assert.equal(valueOf(m, 'nodetail_input_records_total', { source: 'containers' }), 5);
    assert.equal(valueOf(m, 'nodetail_input_bytes_total', { source: 'containers' }), 345);
    assert.equal(valueOf(m, 'nodetail_input_records_total', { source: 'host' }), 7);
    assert.equal(valueOf(m, 'nodetail_input_bytes_total', { source: 'host' }), 700);
    assert.equal(valueOf(m, 'nodetail_input_records_total', { source: 'docker' }), 0);
    assert.equal(valueOf(m, 'nodetail_input_records_total', { source: 'pods' }), 0);
    assert.equal(m.get('nodetail_input_records_total')?.type, 'COUNTER');
  });
});

test('problems, file events, output, retries, dead letters and checkpoints are counted by their label', async () => {
  await withMetrics(async ({ observer }, scrape) => {
    observer.inputProblem('containers', 'truncated');
    observer.inputProblem('containers', 'truncated');
    observer.inputProblem('docker', 'malformed_docker');
    observer.fileEvent('containers', 'opened');
    observer.fileEvent('containers', 'rotated');
    observer.fileEvent('host', 'closed');
    observer.recordsDelivered(10, 1000);
    observer.recordsDelivered(5, 20);
    observer.retried('too_many_requests', 4, 1);
    observer.retried('too_many_requests', 6, 1);
    observer.retried('server_error', 1, 1);
    observer.retried('server_error', 2, 0);
    observer.outputProblem('timeout');
    observer.outputProblem('timeout');
    observer.outputProblem('connection');
    observer.deadLettered('document_parsing_exception', 3);
    observer.deadLettered('index_not_found_exception', 1);
    observer.checkpointWrite(true);
    observer.checkpointWrite(true);
    observer.checkpointWrite(false);
    observer.kubernetesWatchRestart('gone');
    observer.kubernetesWatchRestart('gone');
    const m = await scrape();
    assert.equal(valueOf(m, 'nodetail_input_problems_total', { source: 'containers', reason: 'truncated' }), 2);
    assert.equal(valueOf(m, 'nodetail_input_problems_total', { source: 'docker', reason: 'malformed_docker' }), 1);
    assert.equal(valueOf(m, 'nodetail_input_problems_total', { source: 'host', reason: 'unreadable' }), 0);
    assert.equal(valueOf(m, 'nodetail_input_file_events_total', { source: 'containers', event: 'opened' }), 1);
    assert.equal(valueOf(m, 'nodetail_input_file_events_total', { source: 'containers', event: 'rotated' }), 1);
    assert.equal(valueOf(m, 'nodetail_input_file_events_total', { source: 'host', event: 'closed' }), 1);
    assert.equal(valueOf(m, 'nodetail_input_file_events_total', { source: 'host', event: 'opened' }), 0);
    assert.equal(valueOf(m, 'nodetail_output_records_total'), 15);
    assert.equal(valueOf(m, 'nodetail_output_bytes_total'), 1020);
    // Fluent Bit's meaning: retries count requests, retried records the records in them.
    assert.equal(valueOf(m, 'nodetail_output_retries_total', { reason: 'too_many_requests' }), 2);
    assert.equal(valueOf(m, 'nodetail_output_retried_records_total', { reason: 'too_many_requests' }), 10);
    assert.equal(valueOf(m, 'nodetail_output_retries_total', { reason: 'server_error' }), 1);
    assert.equal(valueOf(m, 'nodetail_output_retried_records_total', { reason: 'server_error' }), 3);
    assert.equal(valueOf(m, 'nodetail_output_retries_total', { reason: 'timeout' }), 0);
    assert.equal(valueOf(m, 'nodetail_output_retried_records_total', { reason: 'timeout' }), 0);
    assert.equal(valueOf(m, 'nodetail_output_errors_total', { reason: 'timeout' }), 2);
    assert.equal(valueOf(m, 'nodetail_output_errors_total', { reason: 'connection' }), 1);
    assert.equal(valueOf(m, 'nodetail_output_dead_letters_total', { reason: 'document_parsing_exception' }), 3);
    assert.equal(valueOf(m, 'nodetail_output_dead_letters_total', { reason: 'index_not_found_exception' }), 1);
    assert.equal(valueOf(m, 'nodetail_checkpoint_writes_total'), 3);
    assert.equal(valueOf(m, 'nodetail_checkpoint_write_failures_total'), 1);
    assert.equal(valueOf(m, 'nodetail_kubernetes_watch_restarts_total', { reason: 'gone' }), 2);
  });
});

test('gauges read the pipeline state at every scrape', async () => {
  const s: FakeState = { held: 100, budget: 4096, paused: false, backlog: 12345, oldest: 1.5, files: 3, pods: 17 };
  await withMetrics(async (_, scrape) => {
    let m = await scrape();
    assert.equal(valueOf(m, 'nodetail_buffer_held_bytes'), 100);
    assert.equal(valueOf(m, 'nodetail_buffer_budget_bytes'), 4096);
    assert.equal(valueOf(m, 'nodetail_input_ingestion_paused'), 0);
    assert.equal(valueOf(m, 'nodetail_input_backlog_bytes'), 12345);
    assert.equal(valueOf(m, 'nodetail_oldest_unacked_record_age_seconds'), 1.5);
    assert.equal(valueOf(m, 'nodetail_input_files_active'), 3);
    assert.equal(valueOf(m, 'nodetail_kubernetes_pod_cache_pods'), 17);
    assert.equal(m.get('nodetail_buffer_held_bytes')?.type, 'GAUGE');
    Object.assign(s, { held: 4096, paused: true, backlog: 0, oldest: 0, files: 1, pods: 0 });
    m = await scrape();
    assert.equal(valueOf(m, 'nodetail_buffer_held_bytes'), 4096);
    assert.equal(valueOf(m, 'nodetail_input_ingestion_paused'), 1);
    assert.equal(valueOf(m, 'nodetail_input_backlog_bytes'), 0);
    assert.equal(valueOf(m, 'nodetail_input_files_active'), 1);
  }, { state: stateOf(s) });
});

test('a state reader that throws shows NaN instead of failing the scrape', async () => {
  const state = { ...stateOf(idle()), backlogBytes: (): number => { throw new Error('stat failed'); } };
  await withMetrics(async (_, scrape) => {
    const m = await scrape();
    assert.ok(Number.isNaN(valueOf(m, 'nodetail_input_backlog_bytes')));
    assert.equal(valueOf(m, 'nodetail_buffer_budget_bytes'), 1024);
  }, { state });
});

test('histograms: request duration by outcome, end-to-end delay with negative delays as 0', async () => {
  await withMetrics(async ({ observer, render }, scrape) => {
    observer.request(0.125, '2xx');
    observer.request(0.03125, '2xx');
    observer.request(3, '429');
    observer.request(Number.NaN, '2xx');
    observer.endToEndDelay(-2);
    observer.endToEndDelay(0.5);
    observer.endToEndDelay(7200);
    observer.endToEndDelay(Number.POSITIVE_INFINITY);
    const m = await scrape();
    const text = await render();
    const ok = histogramOf(text, 'nodetail_output_request_duration_seconds', { outcome: '2xx' });
    assert.equal(ok.count, '2');
    assert.equal(Number(ok.sum), 0.15625);
    assert.equal(ok.buckets?.['0.1'], '1');
    assert.equal(ok.buckets?.['0.05'], '1');
    assert.equal(ok.buckets?.['0.25'], '2');
    const throttled = histogramOf(text, 'nodetail_output_request_duration_seconds', { outcome: '429' });
    assert.equal(throttled.count, '1');
    assert.equal(throttled.buckets?.['2.5'], '0');
    assert.equal(throttled.buckets?.['5'], '1');
    const delay = sampleOf(m, 'nodetail_end_to_end_delay_seconds');
    assert.equal(delay.count, '3');
    assert.equal(Number(delay.sum), 7200.5);
    assert.equal(delay.buckets?.['0.1'], '1');
    assert.equal(delay.buckets?.['1'], '2');
    assert.equal(delay.buckets?.['3600'], '2');
    assert.equal(delay.buckets?.['+Inf'], '3');
    assert.equal(m.get('nodetail_end_to_end_delay_seconds')?.type, 'HISTOGRAM');
  });
});

test('zero, negative and NaN amounts change nothing and never throw into the pipeline', async () => {
  await withMetrics(async ({ observer }, scrape) => {
    observer.recordsRead('pods', 2, 20);
    observer.recordsRead('pods', -1, Number.NaN);
    observer.recordsRead('pods', 0, 0);
    observer.recordsDelivered(Number.NaN, -5);
    observer.retried('timeout', -3, -1);
    observer.deadLettered('x', 0);
    const m = await scrape();
    assert.equal(valueOf(m, 'nodetail_input_records_total', { source: 'pods' }), 2);
    assert.equal(valueOf(m, 'nodetail_input_bytes_total', { source: 'pods' }), 20);
    assert.equal(valueOf(m, 'nodetail_output_records_total'), 0);
    assert.equal(valueOf(m, 'nodetail_output_retries_total', { reason: 'timeout' }), 0);
  });
});

test('per-namespace counters keep the first N namespaces and sum the rest in one series', async () => {
  await withMetrics(async ({ observer }, scrape) => {
    for (const [i, ns] of ['kube-system', 'default', 'shop', 'batch-1', 'batch-2', 'batch-3'].entries()) {
      observer.namespaceRecords(ns, i + 1, 10 * (i + 1));
    }
    observer.namespaceRecords('default', 100, 1000); // a known namespace keeps its own series
    observer.namespaceRecords('batch-1', 1000, 10000); // an overflowed one stays in the bucket
    const m = await scrape();
    const series = m.get('nodetail_input_namespace_records_total')?.metrics ?? [];
    assert.deepEqual(series.map((s) => s.labels?.namespace).sort(), [OTHER_LABEL, 'default', 'kube-system', 'shop']);
    assert.equal(valueOf(m, 'nodetail_input_namespace_records_total', { namespace: 'kube-system' }), 1);
    assert.equal(valueOf(m, 'nodetail_input_namespace_records_total', { namespace: 'default' }), 102);
    assert.equal(valueOf(m, 'nodetail_input_namespace_records_total', { namespace: 'shop' }), 3);
    assert.equal(valueOf(m, 'nodetail_input_namespace_records_total', { namespace: OTHER_LABEL }), 4 + 5 + 6 + 1000);
    assert.equal(valueOf(m, 'nodetail_input_namespace_bytes_total', { namespace: OTHER_LABEL }), 40 + 50 + 60 + 10000);
  }, { namespaceLimit: 3 });
});

test('the default namespace cap is 100 and free-form reasons are capped too', async () => {
  await withMetrics(async ({ observer, render }, scrape) => {
    for (let i = 0; i < 150; i++) observer.namespaceRecords(`ns-${i}`, 1, 1);
    for (let i = 0; i < 50; i++) observer.deadLettered(`reason_${i}`, 1);
    for (let i = 0; i < 50; i++) observer.request(0.1, `${i}xx`);
    const m = await scrape();
    assert.equal(m.get('nodetail_input_namespace_records_total')?.metrics.length, 101);
    assert.equal(valueOf(m, 'nodetail_input_namespace_records_total', { namespace: OTHER_LABEL }), 50);
    assert.equal(m.get('nodetail_output_dead_letters_total')?.metrics.length, 33);
    assert.equal(valueOf(m, 'nodetail_output_dead_letters_total', { reason: OTHER_LABEL }), 18);
    const outcomes = new Set((await render()).split('\n').filter((l) => l.startsWith('nodetail_output_request_duration_seconds_count')));
    assert.equal(outcomes.size, 33);
    assert.equal(histogramOf(await render(), 'nodetail_output_request_duration_seconds', { outcome: OTHER_LABEL }).count, '18');
  });
});

test('names follow Prometheus conventions and no label value is a path', async () => {
  await withMetrics(async ({ observer }, scrape) => {
    // Every observer method once, so that every labelled series exists.
    observer.recordsRead('docker', 1, 1);
    observer.namespaceRecords('default', 1, 1);
    observer.inputProblem('host', 'unreadable');
    observer.fileEvent('pods', 'truncated');
    observer.recordsDelivered(1, 1);
    observer.retried('cluster_block', 1, 1);
    observer.outputProblem('unauthorized');
    observer.deadLettered('mapper_parsing_exception', 1);
    observer.request(1, '5xx');
    observer.endToEndDelay(1);
    observer.checkpointWrite(false);
    observer.kubernetesWatchRestart('expired');
    const m = await scrape();
    const ours = [...m.values()].filter((f) => f.name.startsWith('nodetail_'));
    assert.ok(ours.length >= 24, `only ${ours.length} nodetail metrics`);
    for (const family of ours) {
      assert.match(family.name, /^nodetail_[a-z0-9_]+$/);
      assert.ok(family.help.length > 0, `${family.name} has no help`);
      if (family.type === 'COUNTER') assert.match(family.name, /_total$/);
      else assert.doesNotMatch(family.name, /_total$/, `${family.name} is a ${family.type}`);
      for (const sample of family.metrics) {
        for (const [name, value] of Object.entries(sample.labels ?? {})) {
          if (family.name === 'nodetail_build_info') continue;
          assert.match(value, /^[A-Za-z0-9_.+-]*$/, `${family.name}{${name}="${value}"}`);
        }
      }
    }
    // The standard process and Node.js metrics, under their usual names.
    assert.equal(m.get('process_cpu_seconds_total')?.type, 'COUNTER');
    assert.ok(valueOf(m, 'process_resident_memory_bytes') > 0);
    assert.ok(valueOf(m, 'nodejs_heap_size_used_bytes') > 0);
  });
});

test('build info is 1 with the version, the Node.js version and the sink', async () => {
  await withMetrics(async (_, scrape) => {
    const m = await scrape();
    const info = sampleOf(m, 'nodetail_build_info');
    assert.equal(info.value, '1');
    assert.deepEqual(info.labels, { version: '1.2.3', node_version: process.version, sink: 'elasticsearch' });
  });
});

test('registries are independent, and close empties one', async () => {
  const a = createMetrics({ version: '1', sinkName: 'stdout', state: stateOf(idle()) });
  const b = createMetrics({ version: '2', sinkName: 'stdout', state: stateOf(idle()) });
  try {
    a.observer.recordsDelivered(4, 40);
    assert.equal(valueOf(parseFamilies(await a.render()), 'nodetail_output_records_total'), 4);
    assert.equal(valueOf(parseFamilies(await b.render()), 'nodetail_output_records_total'), 0);
    assert.equal(a.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    a.close();
    assert.equal(parseFamilies(await a.render()).has('nodetail_output_records_total'), false);
  } finally {
    a.close();
    b.close();
  }
});
