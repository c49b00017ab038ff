import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FileEvent, InputProblem, Observer, OutputProblem, PipelineState, UnsafeSettingName } from '../core/observer.ts';
import type { SourceKind } from '../core/record.ts';

/**
 * The one file that imports prom-client. Stages report through `Observer` (agent/core/observer.ts);
 * gauges read `PipelineState` when Prometheus scrapes, so nothing is pushed on the hot path.
 *
 * Names follow Prometheus conventions (one `nodetail_` prefix, base units, counters end in
 * `_total`) and mirror Fluent Bit's (`fluentbit_input_records_total`,
 * `fluentbit_output_retries_total`, `fluentbit_input_ingestion_paused`...) so that users of
 * other agents recognise them. Every label value comes from a closed set or is capped.
 */

export interface Metrics {
  readonly observer: Observer;
  /** The Content-Type of `render()`'s text (Prometheus text format 0.0.4). */
  readonly contentType: string;
  render(): Promise<string>;
  /** Drops every metric of this registry; `render()` answers an empty text afterwards. */
  close(): void;
}

export interface MetricsOptions {
  readonly version: string;
  readonly state: PipelineState;
  /** `elasticsearch` or `stdout`: a label of `nodetail_build_info`. */
  readonly sinkName: string;
  /** Settings in force that weaken security (agent/config/unsafe-settings.ts): 1 in nodetail_unsafe_setting. */
  readonly unsafeSettings?: readonly UnsafeSettingName[];
  /** Distinct namespaces counted by name; the rest share the `_other` series. Default 100. */
  readonly namespaceLimit?: number;
}

/**
 * The series that absorbs label values past a cap. Kubernetes namespace names are DNS labels and
 * cannot hold `_`, so this never collides with a real namespace called "other".
 */
export const OTHER_LABEL = '_other';

const DEFAULT_NAMESPACE_LIMIT = 100;
const NON_COUNTERS_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
/** Free-form label values (dead-letter reasons, watch restart reasons, request outcomes). */
const REASON_LIMIT = 32;

/** A compile-time check that an array lists every member of a string union. */
const everyOf =
  <T extends string>() =>
  <const A extends readonly T[]>(values: A & ([Exclude<T, A[number]>] extends [never] ? unknown : { missing: Exclude<T, A[number]> })): A =>
    values;

const SOURCES = everyOf<SourceKind>()(['containers', 'pods', 'docker', 'host']);
const INPUT_PROBLEMS = everyOf<InputProblem>()([
  'truncated', 'malformed_cri', 'malformed_docker', 'invalid_utf8', 'incomplete', 'unreadable', 'vanished', 'symlink_loop', 'inode_reused',
  'outside_log_roots', 'special_file', 'protected_path',
]);
const UNSAFE_SETTINGS = everyOf<UnsafeSettingName>()(['tls_verify_off', 'credentials_over_http']);
const FILE_EVENTS = everyOf<FileEvent>()(['opened', 'rotated', 'truncated', 'closed']);
const OUTPUT_PROBLEMS = everyOf<OutputProblem>()([
  'rejected', 'too_many_requests', 'server_error', 'timeout', 'connection', 'unauthorized', 'cluster_block', 'index_blocked', 'too_large', 'bad_request',
]);

/** Seconds of one `_bulk` round trip: from a fast local cluster to a request timeout. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds from a line's timestamp to its acknowledgement: sub-second normally, hours after an outage. */
const DELAY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400];

interface Incrementable {
  inc(value: number): void;
}

/** One labelled child per value, made on first use and kept: no lookup by label object per call. */
function memo<T>(make: (value: string) => T): (value: string) => T {
  const cache = new Map<string, T>();
  return (value) => {
    let child = cache.get(value);
    if (child === undefined) {
      child = make(value);
      cache.set(value, child);
    }
    return child;
  };
}

/** Like `memo`, but past `limit` distinct values every new value shares the `_other` child. */
function capped<T>(limit: number, make: (value: string) => T): (value: string) => T {
  const cache = new Map<string, T>();
  let other: T | undefined;
  return (value) => {
    let child = cache.get(value);
    if (child !== undefined) return child;
    if (cache.size >= limit) return (other ??= make(OTHER_LABEL));
    child = make(value);
    cache.set(value, child);
    return child;
  };
}

/**
 * Counters throw on negative or non-finite increments; an observer must never throw into the
 * pipeline, and a zero increment changes nothing. (`NaN > 0` is false.)
 */
function add(child: Incrementable, value: number): void {
  if (value > 0) child.inc(value);
}

/** A gauge whose value is read from the pipeline at scrape time; a failing reader shows NaN. */
function stateGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      let value: number;
      try {
        value = read();
      } catch {
        value = Number.NaN;
      }
      this.set(value);
    },
  });
}

export function createMetrics(options: MetricsOptions): Metrics {
  const { state } = options;
  const registry = new Registry();
  // Standard names (process_cpu_seconds_total, process_resident_memory_bytes, nodejs_heap_*), so
  // the dashboards operators already have for node-exporter-style targets work unchanged.
  // The event-loop lag monitor samples every 100 ms, not prom-client's 10 ms: a hundred wake-ups a
  // second were most of an idle agent's CPU, and lag worth alerting on is far longer than 100 ms.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  // prom-client names three gauges `_total`, which Prometheus reserves for counters (promtool
  // check metrics refuses them); their per-type gauges (nodejs_active_handles...) hold the same.
  for (const name of NON_COUNTERS_NAMED_TOTAL) registry.removeSingleMetric(name);

  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> =>
    new Counter({ name, help, labelNames, registers: [registry] });

  // -- input
  const inputRecords = counter('nodetail_input_records_total', 'Records read, by where the file was found.', ['source']);
  const inputBytes = counter('nodetail_input_bytes_total', 'Bytes read from log files, by where the file was found.', ['source']);
  const namespaceRecords = counter('nodetail_input_namespace_records_total',
    `Records read from container logs, by namespace (the first ${options.namespaceLimit ?? DEFAULT_NAMESPACE_LIMIT} namespaces seen; the rest as "${OTHER_LABEL}").`, ['namespace']);
  const namespaceBytes = counter('nodetail_input_namespace_bytes_total',
    `Bytes read from container logs, by namespace (capped as nodetail_input_namespace_records_total).`, ['namespace']);
  const inputProblems = counter('nodetail_input_problems_total',
    'Input problems: records truncated or malformed, files unreadable or vanished, by reason.', ['source', 'reason']);
  const fileEvents = counter('nodetail_input_file_events_total', 'Files opened, rotated, truncated and closed.', ['source', 'event']);
  stateGauge(registry, 'nodetail_input_files_active', 'Files open for reading.', () => state.activeFiles());
  stateGauge(registry, 'nodetail_input_ingestion_paused', '1 while reading is paused because the buffer budget is spent, else 0.',
    () => (state.paused() ? 1 : 0));
  stateGauge(registry, 'nodetail_input_backlog_bytes', 'Bytes written to open files but not read yet (file sizes minus offsets).',
    () => state.backlogBytes());

  // -- buffer
  stateGauge(registry, 'nodetail_buffer_held_bytes', 'Bytes read but not yet acknowledged by the output.', () => state.heldBytes());
  stateGauge(registry, 'nodetail_buffer_budget_bytes', 'Most bytes that may be read but not acknowledged (buffer_max_bytes).',
    () => state.budgetBytes());
  stateGauge(registry, 'nodetail_oldest_unacked_record_age_seconds', 'Age of the oldest record read but not yet acknowledged; 0 when none.',
    () => state.oldestUnackedSeconds());

  // -- output
  const outputRecords = counter('nodetail_output_records_total', 'Records acknowledged by the output (stored, or already stored before).');
  const outputBytes = counter('nodetail_output_bytes_total', 'Bytes of records acknowledged by the output, as serialised for it (document bytes).');
  // As Fluent Bit: retries_total counts requests that failed and go again, retried_records_total
  // the records in them (one 429 on a 10,000-record body is 1 retry of 10,000 records).
  const retries = counter('nodetail_output_retries_total', 'Bulk requests that failed, whole or in some items, and are sent again, by reason.', ['reason']);
  const retriedRecords = counter('nodetail_output_retried_records_total', 'Records sent again after a failed request or item, by reason.', ['reason']);
  const outputErrors = counter('nodetail_output_errors_total', 'Failed output attempts, by reason.', ['reason']);
  const deadLetters = counter('nodetail_output_dead_letters_total', 'Records the output refused for good and set aside, by reason.', ['reason']);
  const requestDuration = new Histogram({
    name: 'nodetail_output_request_duration_seconds',
    help: 'Duration of one bulk request (or stdout write), by outcome (2xx, 429, 5xx, error...).',
    labelNames: ['outcome'],
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });

  // -- pipeline
  const endToEndDelay = new Histogram({
    name: 'nodetail_end_to_end_delay_seconds',
    help: 'Seconds from a record\'s own timestamp to its acknowledgement by the output.',
    buckets: DELAY_BUCKETS,
    registers: [registry],
  });
  const checkpointWrites = counter('nodetail_checkpoint_writes_total', 'Checkpoint file writes attempted.');
  const checkpointFailures = counter('nodetail_checkpoint_write_failures_total', 'Checkpoint file writes that failed.');
  const watchRestarts = counter('nodetail_kubernetes_watch_restarts_total', 'Kubernetes API watches started again, by reason.', ['reason']);
  stateGauge(registry, 'nodetail_kubernetes_pod_cache_pods', 'Pods held by the metadata cache.', () => state.podCacheSize());

  new Gauge({
    name: 'nodetail_build_info',
    help: 'Always 1; the labels say which build runs.',
    labelNames: ['version', 'node_version', 'sink'],
    registers: [registry],
  }).set({ version: options.version, node_version: process.version, sink: options.sinkName }, 1);
  const unsafe = new Gauge({
    name: 'nodetail_unsafe_setting',
    help: '1 for each setting in force that weakens security (tls_verify_off, credentials_over_http), else 0; announced at start-up.',
    labelNames: ['setting'],
    registers: [registry],
  });
  for (const setting of UNSAFE_SETTINGS) unsafe.set({ setting }, options.unsafeSettings?.includes(setting) ? 1 : 0);

  const inputRecordsBy = memo((source) => inputRecords.labels(source));
  const inputBytesBy = memo((source) => inputBytes.labels(source));
  const namespaceLimit = options.namespaceLimit ?? DEFAULT_NAMESPACE_LIMIT;
  const namespaceBy = capped(namespaceLimit, (namespace) => ({
    records: namespaceRecords.labels(namespace),
    bytes: namespaceBytes.labels(namespace),
  }));
  const problemBy = memo((source) => memo((reason) => inputProblems.labels(source, reason)));
  const fileEventBy = memo((source) => memo((event) => fileEvents.labels(source, event)));
  const retriesBy = memo((reason) => retries.labels(reason));
  const retriedRecordsBy = memo((reason) => retriedRecords.labels(reason));
  const outputErrorsBy = memo((reason) => outputErrors.labels(reason));
  const deadLettersBy = capped(REASON_LIMIT, (reason) => deadLetters.labels(reason));
  const requestBy = capped(REASON_LIMIT, (outcome) => requestDuration.labels(outcome));
  const watchRestartsBy = capped(REASON_LIMIT, (reason) => watchRestarts.labels(reason));

  // Every series of a closed label set exists from the start at 0, so rate() and alerts see the
  // first increment instead of a series appearing out of nowhere.
  for (const source of SOURCES) {
    inputRecordsBy(source).inc(0);
    inputBytesBy(source).inc(0);
    for (const reason of INPUT_PROBLEMS) problemBy(source)(reason).inc(0);
    for (const event of FILE_EVENTS) fileEventBy(source)(event).inc(0);
  }
  for (const reason of OUTPUT_PROBLEMS) {
    retriesBy(reason).inc(0);
    retriedRecordsBy(reason).inc(0);
    outputErrorsBy(reason).inc(0);
  }

  const observer: Observer = {
    recordsRead(source, records, bytes) {
      add(inputRecordsBy(source), records);
      add(inputBytesBy(source), bytes);
    },
    namespaceRecords(namespace, records, bytes) {
      const child = namespaceBy(namespace);
      add(child.records, records);
      add(child.bytes, bytes);
    },
    inputProblem(source, problem) {
      problemBy(source)(problem).inc(1);
    },
    fileEvent(source, event) {
      fileEventBy(source)(event).inc(1);
    },
    recordsDelivered(records, bytes) {
      add(outputRecords, records);
      add(outputBytes, bytes);
    },
    retried(problem, records, requests) {
      add(retriesBy(problem), requests);
      add(retriedRecordsBy(problem), records);
    },
    outputProblem(problem) {
      outputErrorsBy(problem).inc(1);
    },
    deadLettered(reason, records) {
      add(deadLettersBy(reason), records);
    },
    request(seconds, outcome) {
      if (Number.isFinite(seconds)) requestBy(outcome).observe(Math.max(0, seconds));
    },
    endToEndDelay(seconds) {
      // A node clock behind the container's gives a negative delay: it is "no delay", not an error.
      if (Number.isFinite(seconds)) endToEndDelay.observe(Math.max(0, seconds));
    },
    checkpointWrite(ok) {
      checkpointWrites.inc(1);
      if (!ok) checkpointFailures.inc(1);
    },
    kubernetesWatchRestart(reason) {
      watchRestartsBy(reason).inc(1);
    },
  };

  return {
    observer,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    close: () => registry.clear(),
  };
}
