import { setTimeout as sleep } from 'node:timers/promises';
import { ByteBudget } from './batch/byte-budget.ts';
import { Batcher, type ClosedBatch } from './batch/batcher.ts';
import { CheckpointStore } from './checkpoint/checkpoint-store.ts';
import { summarizeResume } from './checkpoint/resume-summary.ts';
import { lockStateDir, type StateDirLock } from './checkpoint/state-dir-lock.ts';
import type { Config } from './config/load-config.ts';
import { protectedPaths } from './config/protected-paths.ts';
import { ConfigError, ShutdownError } from './core/errors.ts';
import type { Log } from './core/log.ts';
import type { Observer, PipelineState } from './core/observer.ts';
import type { LogRecord } from './core/record.ts';
import type { Sink } from './core/sink.ts';
import { Discovery } from './discover/discovery.ts';
import { reportPatterns } from './discover/pattern-report.ts';
import type { DocumentEncoder } from './enrich/document-encoder.ts';
import { createConfinedOpen } from './tail/confined-open.ts';
import { TailManager } from './tail/tail-manager.ts';
import type { Tailer } from './tail/tailer.ts';
import type { Liveness } from './server/liveness.ts';

export interface PipelineDeps {
  readonly log: Log;
  readonly observer: Observer;
  readonly sink: Sink;
  readonly documents: DocumentEncoder;
  readonly podCacheSize: () => number;
  /** Told of every acknowledgement; the output's requests tell it too (see main.ts). */
  readonly liveness: Liveness;
}

export interface Pipeline {
  readonly state: PipelineState;
  start(): Promise<void>;
  /** Stop reading, deliver what is in flight (within shutdown_timeout_ms), persist offsets. */
  stop(): Promise<void>;
  ready(): { ok: boolean; reasons: string[] };
  health(): { ok: boolean; reason?: string };
}

/** A batch at least this share full is sent as soon as the readers have caught up. */
const CAUGHT_UP_FLUSH_SHARE = 0.25;

/**
 * The globs' root folders are looked at this many times per poll interval (250 ms by default):
 * a short-lived pod's log can be gone (the kubelet's garbage collection) a second after its last
 * line, and a stat of two folders costs next to nothing.
 */
const ROOT_POLLS_PER_POLL = 4;

/**
 * The only place that wires the stages: discover → tail → decode → (enrich+encode) batch →
 * sink → acknowledge → checkpoint, with the byte budget closing the loop from the sink's
 * acknowledgements back to the readers.
 */
export function createPipeline(config: Config, deps: PipelineDeps): Pipeline {
  const { log, observer, sink, documents } = deps;
  const budget = new ByteBudget(config.bufferMaxBytes);
  const store = new CheckpointStore(config.stateDir, log);
  const inFlight = new Set<ClosedBatch<Tailer>>();
  let checkpointOk = true;
  let checkpointTimer: NodeJS.Timeout | undefined;
  let lock: StateDirLock | undefined;
  let stopping = false;

  const batcher = new Batcher<Tailer>({
    maxRecords: config.batchMaxRecords,
    maxBytes: config.batchMaxBytes,
    maxDelayMs: config.batchMaxDelayMs,
    encode: (record) => (documents.excluded(record.file) ? undefined : sink.encode(record)),
    onBatch: (batch) => {
      inFlight.add(batch);
      if (batch.ends.length === 0) acknowledge(batch);
      else send(batch);
    },
  });

  const manager = new TailManager({
    readFrom: config.readFrom,
    maxRecordBytes: config.maxRecordBytes,
    readChunkBytes: config.readChunkBytes,
    pollIntervalMs: config.pollIntervalMs,
    rotateWaitMs: config.rotateWaitMs,
    partialWaitMs: config.partialWaitMs,
    store,
    budget,
    observer,
    log,
    open: createConfinedOpen({ logRoots: config.containerLogRoots, protectedPaths: protectedPaths(config) }).open,
    // Each record is encoded into the open batch as soon as it is decoded, so a chunk's records
    // never live together: young-generation GCs find next to nothing alive, and a small young
    // generation costs no throughput (--max-semi-space-size=2: -6 MB of peak RSS, measured).
    onRecord: (tailer, record) => {
      countProblem(tailer, record);
      tailer.encoded += batcher.add(tailer, tailer.acks, record);
    },
    onRead: (tailer, records, bytes) => {
      observer.recordsRead(tailer.source, records, bytes);
      const namespace = tailer.file?.meta.namespace;
      if (namespace !== undefined) observer.namespaceRecords(namespace, records, bytes);
      const encoded = tailer.encoded;
      tailer.encoded = 0;
      budget.take(encoded);
      // Caught up with every file: the open batch will not grow until something new is written,
      // so a large one goes now instead of waiting out its delay (the end of a backfill); a small
      // one still waits, so a trickle of lines never becomes a trickle of requests.
      if (batcher.filled(CAUGHT_UP_FLUSH_SHARE) && manager.backlogBytes() === 0) batcher.flush();
      if (bytes > 0 && encoded > 0) tailer.encodedPerByte = Math.max(1, encoded / bytes);
    },
    onMoved: () => discovery.rescanSoon(),
  });

  const discovery = new Discovery({
    include: config.paths,
    exclude: config.excludePaths,
    rescanIntervalMs: config.rescanIntervalMs,
    rootPollIntervalMs: Math.max(50, Math.round(config.pollIntervalMs / ROOT_POLLS_PER_POLL)),
    log,
    onPaths: (paths, initial) => manager.reconcile(paths, initial),
    onChange: (path) => manager.changed(path),
    directories: () => manager.directories(),
  });

  function send(batch: ClosedBatch<Tailer>): void {
    sink.send(batch).then(
      () => acknowledge(batch),
      async (err: unknown) => {
        // Not acknowledged, so its offsets stay where they were; stop() need not wait for it.
        if (err instanceof ShutdownError) {
          inFlight.delete(batch);
          return;
        }
        // Sinks retry by themselves; anything else is a bug or a broken stdout: try again, never drop.
        log.error({ reason: String(err) }, 'output failed unexpectedly: sending the batch again in 1 s');
        await sleep(1000);
        if (!stopping) send(batch);
        else inFlight.delete(batch); // given up: read again at the next start, and shutdown need not wait for it
      },
    );
  }

  function acknowledge(batch: ClosedBatch<Tailer>): void {
    inFlight.delete(batch);
    budget.release(batch.bytes);
    batcher.recycle(batch);
    deps.liveness.moved();
    for (const { file: tailer, tracker, segment } of batch.segments) {
      tracker.ack(segment);
      const checkpoint = tracker === tailer.acks ? tailer.checkpoint(tracker.acked) : undefined;
      if (checkpoint !== undefined) store.set(tailer.key, checkpoint);
      manager.acknowledged(tailer);
    }
    if (batch.lastTime !== undefined) {
      const delay = (Date.now() - Date.parse(batch.lastTime)) / 1000;
      if (Number.isFinite(delay)) observer.endToEndDelay(Math.max(0, delay));
    }
  }

  function countProblem(tailer: Tailer, record: LogRecord): void {
    if (!record.truncated && record.error === undefined) return;
    const problem = record.truncated ? 'truncated' : (record.error as NonNullable<LogRecord['error']>);
    observer.inputProblem(tailer.source, problem);
    if (tailer.reported.has(problem)) return;
    tailer.reported.add(problem);
    log.warn({ path: tailer.path, offset: record.offset, reason: problem }, record.truncated
      ? `record longer than max_record_bytes (${config.maxRecordBytes}): truncated and flagged (reported once per file)`
      : problem === 'incomplete'
        ? `the end of a partial record never came within partial_wait_ms (${config.partialWaitMs}): shipped as it is, flagged (reported once per file)`
        : 'line does not match the file\'s format: shipped as it is, flagged (reported once per file)');
  }

  async function persist(): Promise<void> {
    try {
      if (await store.flush()) observer.checkpointWrite(true);
      if (!checkpointOk) log.info({ path: store.path }, 'checkpoints are written again');
      checkpointOk = true;
    } catch (err) {
      observer.checkpointWrite(false);
      if (checkpointOk) log.error({ path: store.path, reason: (err as NodeJS.ErrnoException).code ?? String(err) }, 'cannot write checkpoints: still shipping, will retry; a restart now would send some records again');
      checkpointOk = false;
    }
  }

  /** Says at start what will be read: per pattern what it finds, and where the checkpoints resume. */
  async function explainStart(): Promise<void> {
    for (const p of await reportPatterns(config.paths, config.excludePaths)) {
      if (p.missingFolder !== undefined) log.warn({ pattern: p.pattern, folder: p.missingFolder }, `pattern ${p.pattern}: its folder ${p.missingFolder} does not exist; files are read once it appears`);
      else log.info({ pattern: p.pattern, files: p.files }, `pattern ${p.pattern}: ${p.files} files`);
    }
    if (store.fresh) {
      log.info({ readFrom: config.readFrom }, `no checkpoints in ${config.stateDir}: first start, files already there are read from their ${config.readFrom}`);
      return;
    }
    const r = await summarizeResume(store.entries());
    const moved = r.moved > 0 ? `, ${r.moved} no longer at their path` : '';
    log.info({ files: r.files, atEnd: r.atEnd, moved: r.moved }, `resuming ${r.files} files from checkpoints (${r.atEnd} already at their end${moved})`);
  }

  const state: PipelineState = {
    heldBytes: () => budget.held(),
    budgetBytes: () => budget.limit,
    paused: () => manager.paused(),
    backlogBytes: () => manager.backlogBytes(),
    oldestUnackedSeconds: () => {
      const oldest = inFlight.values().next().value;
      return oldest === undefined ? 0 : (Date.now() - oldest.openedAt) / 1000;
    },
    activeFiles: () => manager.activeFiles(),
    podCacheSize: deps.podCacheSize,
  };

  return {
    state,
    async start() {
      lock = await lockStateDir(config.stateDir, log);
      try {
        await store.load();
      } catch (err) {
        throw new ConfigError('state_dir', `cannot use ${JSON.stringify(config.stateDir)} for checkpoints: ${(err as NodeJS.ErrnoException).code ?? String(err)} (set NODETAIL_STATE_DIR to a writable directory)`);
      }
      await explainStart();
      manager.start();
      await discovery.start();
      checkpointTimer = setInterval(() => void persist(), config.checkpointIntervalMs);
      checkpointTimer.unref();
    },
    async stop() {
      stopping = true;
      await discovery.stop();
      manager.stop();
      batcher.flush();
      const deadline = Date.now() + config.shutdownTimeoutMs;
      while (inFlight.size > 0 && Date.now() < deadline) await sleep(20);
      if (inFlight.size > 0) log.warn({ batches: inFlight.size }, 'shutdown timeout: records not yet acknowledged will be read again at the next start');
      await sink.close();
      clearInterval(checkpointTimer);
      await persist();
      await manager.close();
      await lock?.release();
    },
    ready() {
      const reasons: string[] = [];
      if (!sink.ready()) reasons.push(sink.problem?.() ?? `output ${sink.name} is not reachable or refuses us (credentials, a cluster block, 429s or 5xx: see the self-log)`);
      if (!checkpointOk) reasons.push(`checkpoints cannot be written to ${config.stateDir}`);
      return { ok: reasons.length === 0, reasons };
    },
    health() {
      return deps.liveness.check(inFlight.size > 0);
    },
  };
}
