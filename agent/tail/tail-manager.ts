import { lstat, readdir, readlink, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Checkpoint, CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import type { ByteBudget } from '../batch/byte-budget.ts';
import { ReadRefusedError } from '../core/errors.ts';
import type { Log } from '../core/log.ts';
import type { InputObserver, InputProblem } from '../core/observer.ts';
import type { LogRecord } from '../core/record.ts';
import { describeFile, isRotatedName } from '../enrich/path-metadata.ts';
import { FileActivity } from './file-activity.ts';
import { fileKey, fingerprint } from './file-identity.ts';
import { Tailer } from './tailer.ts';

/**
 * A file that does not grow is polled less and less often, down to once every this many poll
 * intervals: watch events still wake it at once, and a lost event then costs at most this much
 * latency. It keeps the idle cost of thousands of files low.
 */
const IDLE_POLL_FACTOR = 10;

/** The smallest read, so that a nearly spent budget still makes progress in useful steps. */
const MIN_READ_BYTES = 4096;

/** How often checkpoints of files gone from disk are forgotten. */
const PRUNE_INTERVAL_MS = 60_000;

export interface TailManagerOptions {
  readonly readFrom: 'head' | 'tail';
  readonly maxRecordBytes: number;
  readonly readChunkBytes: number;
  readonly pollIntervalMs: number;
  readonly rotateWaitMs: number;
  /** How long a record being joined (CRI `P`, docker chunk) may wait for its end once the file is read to its end. */
  readonly partialWaitMs: number;
  readonly store: CheckpointStore;
  readonly budget: ByteBudget;
  readonly observer: InputObserver;
  readonly log: Log;
  /** Opens a matched path, or refuses it (see confined-open.ts): every log file is opened through it. */
  readonly open: (path: string) => Promise<FileHandle>;
  /**
   * One record of a file, in file order, as its chunk is decoded (synchronously): it may be
   * encoded and let go before the next one is made.
   */
  readonly onRecord: (tailer: Tailer, record: LogRecord) => void;
  /** After the records of one read of a file (`bytes` 0: of its unfinished end, once it is finished). */
  readonly onRead: (tailer: Tailer, records: number, bytes: number) => void;
  /** A followed path now names another file or none (a rotation, a deletion): discovery should look again. */
  readonly onMoved: () => void;
}

/**
 * Owns one Tailer per file identity and decides what each does: reconciles the paths
 * discovery found against the open files (by device + inode, never by path), schedules reads
 * when files grow, notices truncation, drains files that were rotated or deleted to their end
 * and closes them once all their records are acknowledged. One read at a time, round robin,
 * each waiting for room in the byte budget.
 */
export class TailManager {
  readonly #o: TailManagerOptions;
  readonly #activity: FileActivity;
  readonly #tailers = new Map<string, Tailer>();
  readonly #byPath = new Map<string, Tailer>();
  readonly #ready = new Set<Tailer>();
  readonly #finished = new Set<Tailer>();
  readonly #buf: Buffer;
  readonly #problemPaths = new Map<string, InputProblem>();
  #pumping = false;
  #paused = false;
  #stopped = false;
  #polling = false;
  #timer: NodeJS.Timeout | undefined;
  #lastPrune = Date.now();

  constructor(options: TailManagerOptions) {
    this.#o = options;
    this.#activity = new FileActivity(options.log);
    this.#buf = Buffer.allocUnsafe(options.readChunkBytes);
  }

  start(): void {
    this.#timer = setInterval(() => void this.poll(), this.#o.pollIntervalMs);
    this.#timer.unref();
  }

  paused(): boolean {
    return this.#paused;
  }

  activeFiles(): number {
    return this.#tailers.size;
  }

  backlogBytes(): number {
    let backlog = 0;
    for (const t of this.#tailers.values()) if (t.size > t.offset) backlog += t.size - t.offset;
    return backlog;
  }

  /** A watch event said this path changed: read it soon, and poll it often again. */
  changed(path: string): void {
    const tailer = this.#byPath.get(path);
    if (tailer === undefined) return;
    tailer.pollEvery = this.#o.pollIntervalMs;
    tailer.nextPoll = 0;
    this.#schedule(tailer);
  }

  /** The directories holding the files being read (for watches on the real files' folders). */
  directories(): Set<string> {
    const dirs = new Set<string>();
    for (const tailer of this.#tailers.values()) dirs.add(dirname(tailer.path));
    return dirs;
  }

  /**
   * Makes the open files match the paths that discovery found. `initial`: the first scan
   * after start, where files without a checkpoint follow `read_from`.
   */
  async reconcile(paths: readonly string[], initial: boolean): Promise<void> {
    const seen = new Set<string>();
    const byPath = new Map<string, Tailer>();
    const candidates = byPreference(paths).filter((path) => !isRotatedName(path));
    const stats = await settleAll(candidates, (path) => stat(path));
    for (const [i, path] of candidates.entries()) {
      if (this.#stopped) return;
      const st = stats[i] as Awaited<ReturnType<typeof stat>> | Error;
      if (st instanceof Error) {
        this.#pathProblem(path, st);
        continue;
      }
      if (!st.isFile()) {
        // Never opened (a FIFO would block, a device may act on open); a folder is just skipped.
        if (!st.isDirectory()) this.#pathProblem(path, new ReadRefusedError(path, path, 'special_file'));
        continue;
      }
      const key = fileKey(st.dev, st.ino);
      seen.add(key);
      const tailer = this.#tailers.get(key) ?? (await this.#open(path, initial, undefined));
      if (tailer === undefined) continue;
      // Only once it is open: a file that stats but cannot be opened (no read permission) is
      // found again at every scan, and its problem is logged and counted once.
      this.#problemPaths.delete(path);
      seen.add(tailer.key); // the path may have been rotated between the stat and the open
      byPath.set(path, tailer);
      byPath.set(tailer.path, tailer);
      if (tailer.state === 'draining' && !this.#finished.has(tailer)) tailer.state = 'following'; // the path came back
    }
    this.#byPath.clear();
    for (const [path, tailer] of byPath) this.#byPath.set(path, tailer);
    const matched = new Set(paths);
    for (const path of this.#problemPaths.keys()) if (!matched.has(path)) this.#problemPaths.delete(path);
    const rotatedIn = new Set<string>();
    for (const tailer of this.#tailers.values()) {
      if (tailer.state === 'following' && !seen.has(tailer.key)) {
        rotatedIn.add(dirname(tailer.path));
        tailer.state = 'draining';
        tailer.lastGrowth = Date.now();
        this.#o.observer.fileEvent(tailer.source, 'rotated');
        this.#o.log.debug({ path: tailer.path }, 'file rotated or deleted: reading it to its end');
        this.#schedule(tailer);
      }
    }
    if (initial) await this.#adoptRotated();
    // A file rotated twice between two looks (fast writers, no watch events) was never followed
    // under its live name: it is found beside the one that was, before the kubelet compresses it.
    else if (rotatedIn.size > 0) await this.#adoptSiblings(rotatedIn, false);
    if (!initial && Date.now() - this.#lastPrune > PRUNE_INTERVAL_MS) {
      this.#lastPrune = Date.now();
      await this.#pruneCheckpoints();
    }
    this.#activity.report();
  }

  /**
   * Checks every open file for growth, truncation, and a path that no longer leads to it (a
   * rotation), and closes drained files. Runs every poll interval, so a lost watch event costs
   * latency, never data.
   */
  async poll(): Promise<void> {
    if (this.#polling || this.#stopped) return;
    this.#polling = true;
    try {
      const now = Date.now();
      const base = this.#o.pollIntervalMs;
      const due = [...this.#tailers.values()].filter((t) => t.state !== 'closed' && !this.#finished.has(t) && (t.state === 'draining' || now >= t.nextPoll));
      // Offsets from before the stats: the pump keeps reading meanwhile, and a size taken before
      // a read must not be compared with the offset after it (a false truncation).
      const offsets = due.map((t) => t.offset);
      const looks = await settleAll(due, (t) => t.look());
      let moved = false;
      for (const [i, tailer] of due.entries()) {
        const look = looks[i];
        if (look === undefined || look instanceof Error || tailer.state === 'closed' || this.#finished.has(tailer)) continue;
        const size = look.size;
        if (look.moved) moved = true;
        // Back off while idle (with jitter, so thousands of idle files do not poll in step);
        // growth or a watch event brings a file back to the base interval.
        tailer.pollEvery = Math.min(Math.max(tailer.pollEvery * 2, base), base * IDLE_POLL_FACTOR);
        tailer.nextPoll = now + tailer.pollEvery * (0.5 + Math.random() / 2);
        const grew = size > tailer.size;
        if (size < (offsets[i] as number) && tailer.offset === offsets[i]) {
          this.#o.log.warn({ path: tailer.path, size, offset: tailer.offset }, 'file truncated (copytruncate?): reading it again from the start');
          this.#o.observer.fileEvent(tailer.source, 'truncated');
          tailer.truncated();
          this.#countHeld(tailer);
          tailer.size = size;
          this.#schedule(tailer);
          continue;
        }
        if (grew) {
          tailer.size = size;
          tailer.lastGrowth = now;
          tailer.pollEvery = base;
          tailer.nextPoll = now + base / 2;
        }
        if (this.#waitedTooLong(tailer, size, now)) {
          tailer.pollEvery = base;
          tailer.nextPoll = now + base;
        }
        // Drained: read to its end, or never a complete first line to read (nothing to ship).
        const drained = size <= tailer.offset || tailer.file === undefined;
        if (size > tailer.offset && (grew || tailer.file !== undefined)) this.#schedule(tailer);
        else if (tailer.state === 'draining' && drained && now - tailer.lastGrowth >= this.#o.rotateWaitMs && !this.#ready.has(tailer)) {
          this.#finish(tailer);
        }
      }
      this.#closeAcknowledged();
      if (moved) this.#o.onMoved();
    } finally {
      this.#polling = false;
    }
  }

  /**
   * A record whose end never came (a CRI `P` without its `F`, a docker chunk without its last)
   * would hold the file's checkpoint for ever, and every restart would send all after it again.
   * Once the file is read to its end and the record has waited `partial_wait_ms`, it ships as it
   * is, flagged. True while one is waiting, so the file is polled at the base interval meanwhile.
   */
  #waitedTooLong(tailer: Tailer, size: number, now: number): boolean {
    const joining = tailer.joining() ?? -1;
    if (joining !== tailer.waiting.offset) tailer.waiting = { offset: joining, since: now };
    if (joining < 0) return false;
    if (size > tailer.offset || this.#ready.has(tailer) || now - tailer.waiting.since < this.#o.partialWaitMs) return true;
    const records = tailer.flushIncomplete();
    this.#countHeld(tailer);
    if (records > 0) this.#o.onRead(tailer, records, 0);
    tailer.waiting = { offset: -1, since: now };
    return false;
  }

  /** A tailer's acknowledged offset moved: close it if it was finished and is now fully acknowledged. */
  acknowledged(tailer: Tailer): void {
    if (this.#finished.has(tailer) && tailer.acks.inFlight() === 0) this.#closeAcknowledged();
  }

  /** Stops reading. Open files stay open until `close`, so acknowledgements can still be recorded. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#ready.clear();
    this.#o.budget.wakeAll();
  }

  async close(): Promise<void> {
    this.stop();
    this.#activity.report();
    await Promise.all([...this.#tailers.values()].map((t) => t.close().catch(() => {})));
    this.#tailers.clear();
  }

  #schedule(tailer: Tailer): void {
    if (this.#stopped || tailer.state === 'closed' || this.#finished.has(tailer)) return;
    this.#ready.add(tailer);
    if (!this.#pumping) void this.#pump();
    // The pump waits for room, and this file can make some by finishing its held line.
    else if (this.#paused && tailer.heldCounted > 0) this.#o.budget.wakeAll();
  }

  /**
   * Bytes held for an unfinished line or a record being joined count in the budget like bytes
   * read (hundreds of files each in the middle of a long line were hundreds of MB outside it).
   */
  #countHeld(tailer: Tailer): void {
    const held = tailer.heldBytes();
    const budget = this.#o.budget;
    if (held > tailer.heldCounted) budget.take(held - tailer.heldCounted);
    else if (held < tailer.heldCounted) budget.release(tailer.heldCounted - held);
    tailer.heldCounted = held;
  }

  /**
   * With the budget spent, a file that holds part of a line is still read: finishing the line is
   * what gives its bytes back (otherwise files holding partial lines could fill the budget and
   * wait for room that only they can make). The one holding most, so one line at a time is
   * finished, and read only up to the end of that line (no new one is started): the budget is
   * overrun by at most one record (max_record_bytes). Undefined when none is ready.
   */
  #holderReady(): Tailer | undefined {
    let most: Tailer | undefined;
    for (const tailer of this.#ready) if (tailer.heldCounted > (most?.heldCounted ?? 0)) most = tailer;
    return most;
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      const budget = this.#o.budget;
      while (this.#ready.size > 0 && !this.#stopped) {
        let tailer = this.#ready.values().next().value as Tailer;
        // Read no more than what, once encoded, fits the room left in the budget; when not even a
        // small read fits, wait for acknowledgements to make room (the files on disk are the buffer),
        // reading on only the files that hold part of a line (see #holderReady).
        const smallest = Math.min(MIN_READ_BYTES * tailer.encodedPerByte, budget.limit / 4);
        const room = budget.limit - budget.held();
        let size: number;
        let holding = false;
        if (room >= smallest) {
          // A margin of a quarter over the last chunk's expansion: the next chunk's lines may be shorter.
          size = Math.min(this.#buf.length, Math.max(MIN_READ_BYTES, Math.floor(room / (tailer.encodedPerByte * 1.25))));
        } else {
          const holder = this.#holderReady();
          if (holder === undefined) {
            this.#paused = true;
            await budget.room(smallest);
            this.#paused = false;
            continue;
          }
          tailer = holder;
          size = this.#buf.length;
          holding = true;
        }
        this.#ready.delete(tailer);
        if (tailer.state === 'closed') continue;
        let result: { records: number; bytes: number };
        try {
          result = await tailer.read(size === this.#buf.length ? this.#buf : this.#buf.subarray(0, size), holding);
        } catch (err) {
          this.#fileProblem(tailer, 'unreadable', err);
          continue;
        }
        // Bytes read mean the file grew since the last look, whoever noticed it: rotate_wait counts from here.
        if (result.bytes > 0) tailer.lastGrowth = Date.now();
        if (result.records > 0 || result.bytes > 0) this.#o.onRead(tailer, result.records, result.bytes);
        this.#countHeld(tailer);
        // A full read means there is probably more: go round the other files first, then read on.
        // (A read that finished a held line stopped there: the rest waits for room like any file's.)
        if (result.bytes === size || (holding && result.bytes > 0)) this.#schedule(tailer);
      }
    } finally {
      this.#pumping = false;
      this.#paused = false;
    }
  }

  /** `from`: a checkpoint to resume from, `head` to read it whole, undefined to look up its own checkpoint. */
  async #open(path: string, initial: boolean, from: Checkpoint | 'head' | undefined): Promise<Tailer | undefined> {
    let fh;
    try {
      fh = await this.#o.open(path);
    } catch (err) {
      this.#pathProblem(path, err);
      return undefined;
    }
    try {
      const st = await fh.stat();
      const key = fileKey(st.dev, st.ino);
      const existing = this.#tailers.get(key);
      if (existing !== undefined) {
        await fh.close();
        return existing;
      }
      const fp = await fingerprint(fh, key);
      const checkpoint = from === 'head' ? undefined : (from ?? this.#o.store.get(key));
      // A file found again after a restart (the same content) is also described through the link
      // it was read by before: a rotated docker file's own path names only the container id.
      const known = checkpoint !== undefined && checkpoint.fingerprint === fp ? checkpoint.matchedPath : undefined;
      const hops = await symlinkHops(path);
      const paths = known !== undefined && !hops.includes(known) ? [known, ...hops] : hops;
      let offset = 0;
      let generation = 0;
      if (from === 'head') {
        // read whole
      } else if (checkpoint !== undefined) {
        if (fp === checkpoint.fingerprint && checkpoint.offset <= st.size) {
          offset = checkpoint.offset;
          generation = checkpoint.generation ?? 0;
        } else if (fp === checkpoint.fingerprint) {
          // Shorter than what was read, with the same first line: truncated while stopped and written
          // again (copytruncate). A new generation gives the new content ids of its own.
          generation = (checkpoint.generation ?? 0) + 1;
          this.#o.observer.fileEvent(describeFile(paths).source, 'truncated');
          this.#o.log.warn({ path, size: st.size, offset: checkpoint.offset }, 'file truncated while stopped (copytruncate?): reading it again from the start');
        } else {
          // Routine after the kubelet gzips a rotated file (the freed inode is taken by the next
          // new file): counted, logged at info level.
          this.#o.observer.inputProblem(describeFile(paths).source, 'inode_reused');
          this.#o.log.info({ path }, 'file has new content under a checkpointed inode (inode reuse, or truncation while stopped): reading it from the start');
        }
      } else if (initial && this.#o.store.fresh && !this.#o.store.recovered && this.#o.readFrom === 'tail') {
        offset = st.size;
      }
      const emit = (record: LogRecord): void => this.#o.onRecord(tailer, record);
      const tailer = new Tailer({ key, fh, paths, description: describeFile(paths), offset, fingerprint: fp, generation, maxRecordBytes: this.#o.maxRecordBytes, emit });
      tailer.size = st.size;
      this.#tailers.set(key, tailer);
      // Remembered at once, so a restart before its first acknowledgement keeps the starting point.
      const opened = tailer.checkpoint(offset);
      if (opened !== undefined) this.#o.store.set(key, opened);
      this.#o.observer.fileEvent(tailer.source, 'opened');
      this.#o.log.debug({ path, offset }, 'file opened');
      this.#activity.started(path);
      this.#schedule(tailer);
      return tailer;
    } catch (err) {
      await fh.close().catch(() => {});
      this.#pathProblem(path, err);
      return undefined;
    }
  }

  /**
   * After a restart: container logs beside the followed ones may hold lines the agent never
   * read: files rotated (`0.log.<time>`, `x-json.log.1`) or left behind by a container restart
   * (`0.log` once `1.log` is linked) while it was down or while it was draining them when it
   * died. Known ones resume from their checkpoint. Unknown ones appeared while the agent was down
   * and are read from their head; on the very first start, `read_from` decides, as for every
   * file. Only container log folders are searched (never /var/log itself), and compressed
   * (`.gz`) and temporary files are never read.
   */
  async #adoptRotated(): Promise<void> {
    const dirs = new Set<string>();
    for (const tailer of this.#tailers.values()) dirs.add(dirname(tailer.path));
    for (const [, checkpoint] of this.#o.store.entries()) dirs.add(dirname(checkpoint.path));
    // The very first start (not a start after a corrupt checkpoint file, which reads all again).
    await this.#adoptSiblings(dirs, this.#o.store.fresh && !this.#o.store.recovered);
    await this.#pruneCheckpoints();
  }

  /**
   * Opens, to read them to their end, the files in `dirs` that are not open and hold unread bytes:
   * known ones from their checkpoint, unknown container logs from their head (`first`: the very
   * first start, where `read_from` decides). A drained file keeps its checkpoint at its end while
   * it exists, so nothing is read twice.
   */
  async #adoptSiblings(dirs: Iterable<string>, first: boolean): Promise<void> {
    for (const dir of dirs) {
      for (const [key, { path, size }] of await filesByKey(dir)) {
        if (this.#tailers.has(key) || this.#stopped) continue;
        const checkpoint = this.#o.store.get(key);
        // Known files of any name (a host log's syslog.1, messages-20240101): finish them if unread bytes remain.
        if (checkpoint !== undefined ? checkpoint.offset >= size : !isContainerLog(path)) continue;
        const tailer = checkpoint !== undefined
          ? await this.#open(path, false, checkpoint)
          : await this.#open(path, first, first ? undefined : 'head');
        if (tailer === undefined || tailer.state !== 'following') continue;
        tailer.state = 'draining';
        this.#o.log.info({ path, offset: tailer.offset }, 'reading a container log that is no longer linked (rotated, or from before a restart) to its end');
      }
    }
  }

  /**
   * Forgets checkpoints of files that are gone from disk. A drained rotated file keeps its
   * checkpoint (at its end) while it exists, so a restart does not read it again.
   */
  async #pruneCheckpoints(): Promise<void> {
    const orphans = [...this.#o.store.entries()].filter(([key]) => !this.#tailers.has(key));
    const byDir = new Map<string, Map<string, { path: string; size: number }>>();
    for (const [key, checkpoint] of orphans) {
      const dir = dirname(checkpoint.path);
      let files = byDir.get(dir);
      if (files === undefined) byDir.set(dir, (files = await filesByKey(dir)));
      const path = files.get(key)?.path;
      if (path === undefined) this.#o.store.delete(key);
      else if (path !== checkpoint.path) this.#o.store.set(key, { ...checkpoint, path });
    }
  }

  #finish(tailer: Tailer): void {
    this.#finished.add(tailer);
    const records = tailer.finish();
    this.#countHeld(tailer);
    if (records > 0) this.#o.onRead(tailer, records, 0);
    this.#closeAcknowledged();
  }

  #closeAcknowledged(): void {
    for (const tailer of this.#finished) {
      if (tailer.acks.inFlight() > 0) continue;
      this.#finished.delete(tailer);
      this.#tailers.delete(tailer.key);
      this.#o.budget.release(tailer.heldCounted);
      tailer.heldCounted = 0;
      // Its checkpoint (now at its end) stays until the file leaves the disk: see #pruneCheckpoints.
      this.#o.observer.fileEvent(tailer.source, 'closed');
      this.#o.log.debug({ path: tailer.path }, 'file closed');
      this.#activity.finished(tailer.path);
      void tailer.close().catch(() => {});
    }
  }

  #pathProblem(path: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // gone between the scan and the stat: nothing to read
    const problem: InputProblem = err instanceof ReadRefusedError ? err.reason : code === 'ELOOP' ? 'symlink_loop' : 'unreadable';
    if (this.#problemPaths.get(path) === problem) return;
    this.#problemPaths.set(path, problem);
    this.#o.observer.inputProblem(describeFile([path]).source, problem);
    if (err instanceof ReadRefusedError) this.#o.log.warn({ path, real: err.real, reason: problem }, 'file refused: it is not a log file of this node (skipped, and never read while it leads there)');
    else this.#o.log.warn({ path, reason: code ?? String(err) }, problem === 'symlink_loop' ? 'symlink loop: file skipped' : 'cannot read file: skipped until it becomes readable');
  }

  #fileProblem(tailer: Tailer, problem: InputProblem, err: unknown): void {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    this.#o.observer.inputProblem(tailer.source, problem);
    if (tailer.reported.has(reason)) return;
    tailer.reported.add(reason);
    this.#o.log.warn({ path: tailer.path, reason }, 'read failed: will retry');
  }
}

/** The path itself, every symlink target on the way, and the real path last. */
async function symlinkHops(path: string): Promise<string[]> {
  const hops = [path];
  let current = path;
  for (let i = 0; i < 8; i++) {
    const st = await lstat(current);
    if (!st.isSymbolicLink()) break;
    current = resolve(dirname(current), await readlink(current));
    hops.push(current);
  }
  return hops;
}

/**
 * `fn` over every item, a bounded number at a time (file system calls run on libuv's thread
 * pool: concurrent ones cost a fraction of sequential awaits); failures come back as Errors.
 */
async function settleAll<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<Array<R | Error>> {
  const results: Array<R | Error> = [];
  for (let i = 0; i < items.length; i += 256) {
    const part = items.slice(i, i + 256).map((item) => fn(item).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))));
    results.push(...(await Promise.all(part)));
  }
  return results;
}

/** The regular files of a directory by file key (compressed and temporary ones left out). */
async function filesByKey(dir: string): Promise<Map<string, { path: string; size: number }>> {
  const files = new Map<string, { path: string; size: number }>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    if (name.endsWith('.gz') || name.endsWith('.tmp')) continue;
    const path = join(dir, name);
    try {
      const st = await stat(path);
      if (st.isFile()) files.set(fileKey(st.dev, st.ino), { path, size: st.size });
    } catch {
      // vanished meanwhile
    }
  }
  return files;
}

/** A container log in the kubelet's or docker's layout, current or rotated (not compressed). */
function isContainerLog(path: string): boolean {
  const source = describeFile([path]).source;
  return (source === 'pods' || source === 'docker') && !path.endsWith('.gz');
}

/** /var/log/containers links first: they name the container id, which the pods layout does not. */
function byPreference(paths: readonly string[]): string[] {
  const order = { containers: 0, pods: 1, docker: 2, host: 3 };
  return paths
    .map((path) => ({ path, rank: order[describeFile([path]).source] }))
    .sort((a, b) => a.rank - b.rank)
    .map((p) => p.path);
}
