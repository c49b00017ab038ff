import type { SourceKind } from './record.ts';

/**
 * What the stages report. `agent/telemetry/metrics.ts` implements it with prom-client; stages
 * never import prom-client. Label values are all bounded (no paths, pod names or ids): the
 * file or pod a problem concerns goes to the self-log, once, not into a label.
 */

/** Why an input problem happened (a metric label, so a closed set). */
export type InputProblem =
  | 'truncated' // a record longer than max_record_bytes was cut
  | 'malformed_cri' // a line in a CRI file did not parse; shipped raw
  | 'malformed_docker' // a line in a docker json-file did not parse; shipped raw
  | 'invalid_utf8' // bytes that are not UTF-8 were replaced with U+FFFD
  | 'incomplete' // a CRI P part or docker chunk whose end never came: shipped after partial_wait_ms
  | 'unreadable' // open/read failed (EACCES, EISDIR...)
  | 'vanished' // the file was deleted before it could be opened or read
  | 'symlink_loop' // ELOOP while resolving a matched path
  | 'inode_reused' // a checkpoint's inode now holds other content: read from 0
  | 'outside_log_roots' // a link that ends outside the kubelet's and runtime's log folders: never read
  | 'special_file' // not a regular file (FIFO, device, folder) or on procfs/sysfs: never read
  | 'protected_path'; // the agent's own state, configuration or credentials: never read

/** A setting in force that weakens security (a metric label; see agent/config/unsafe-settings.ts). */
export type UnsafeSettingName = 'tls_verify_off' | 'credentials_over_http';

export type FileEvent = 'opened' | 'rotated' | 'truncated' | 'closed';

/** Why an output attempt failed (a metric label). */
export type OutputProblem =
  | 'rejected' // 4xx item: dead-lettered
  | 'too_many_requests' // 429 (item or request)
  | 'server_error' // 5xx
  | 'timeout'
  | 'connection' // refused, reset, DNS
  | 'unauthorized' // 401/403
  | 'cluster_block' // disk flood stage: lifts by itself
  | 'index_blocked' // a write or read-only block an operator set (403): waits for the operator
  | 'too_large' // 413: the batch is split
  | 'bad_request'; // request-level 400/406: a bug or version mismatch

export interface InputObserver {
  recordsRead(source: SourceKind, records: number, bytes: number): void;
  /** `namespace` for the per-namespace volume counter (capped by the implementation). */
  namespaceRecords(namespace: string, records: number, bytes: number): void;
  inputProblem(source: SourceKind, problem: InputProblem): void;
  fileEvent(source: SourceKind, event: FileEvent): void;
}

export interface OutputObserver {
  recordsDelivered(records: number, bytes: number): void;
  /**
   * A request failed (whole, or some of its items) and `records` of it will be sent again, in
   * `requests` retries (1; 0 when another problem of the same response already counted it).
   */
  retried(problem: OutputProblem, records: number, requests: number): void;
  outputProblem(problem: OutputProblem): void;
  deadLettered(reason: string, records: number): void;
  /** One `_bulk` (or stdout write) round trip; `outcome` is a status class such as `2xx`, `429`, `error`. */
  request(seconds: number, outcome: string): void;
}

export interface PipelineObserver {
  /** Seconds from the record's own timestamp to its acknowledgement. */
  endToEndDelay(seconds: number): void;
  checkpointWrite(ok: boolean): void;
  kubernetesWatchRestart(reason: string): void;
}

export type Observer = InputObserver & OutputObserver & PipelineObserver;

/** State that metrics read when scraped (gauges), instead of being pushed on the hot path. */
export interface PipelineState {
  /** Bytes read but not yet acknowledged, and the budget they may not exceed. */
  heldBytes(): number;
  budgetBytes(): number;
  /** True while tailers wait for the budget. */
  paused(): boolean;
  /** Sum over open files of size minus the offset read up to. */
  backlogBytes(): number;
  /** Age in seconds of the oldest record read but not yet acknowledged (0 when none). */
  oldestUnackedSeconds(): number;
  activeFiles(): number;
  /** Pods held by the metadata cache (0 without the Kubernetes API). */
  podCacheSize(): number;
}

/** An observer that ignores everything: for unit tests and for tools. */
export const nullObserver: Observer = {
  recordsRead() {},
  namespaceRecords() {},
  inputProblem() {},
  fileEvent() {},
  recordsDelivered() {},
  retried() {},
  outputProblem() {},
  deadLettered() {},
  request() {},
  endToEndDelay() {},
  checkpointWrite() {},
  kubernetesWatchRestart() {},
};
