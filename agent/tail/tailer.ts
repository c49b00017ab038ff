import { fstat, stat } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { AckTracker } from '../checkpoint/ack-tracker.ts';
import type { Checkpoint } from '../checkpoint/checkpoint-store.ts';
import type { Decoder, Emit } from '../core/decoder.ts';
import type { LogFile, SourceKind } from '../core/record.ts';
import { createDecoder } from '../decode/create-decoder.ts';
import { detectFormat } from '../decode/detect-format.ts';
import type { FileDescription } from '../enrich/path-metadata.ts';
import { FINGERPRINT_BYTES, fileKey, fingerprintOf, idPrefixOf } from './file-identity.ts';
import { LineSplitter, type OnLine } from './line-splitter.ts';

/** How much of a file's start is read to tell its format: a whole docker 16 KiB chunk, escaped. */
const DETECT_BYTES = 64 * 1024;

const NOTHING = { records: 0, bytes: 0 } as const;

/** following: a discovered path leads to it. draining: none does any more (rotated or deleted): read to its end, then close. */
export type TailerState = 'following' | 'draining' | 'closed';

export interface TailerInit {
  readonly key: string;
  readonly fh: FileHandle;
  /** The path discovery matched, then every path a symlink led to, ending with the real path. */
  readonly paths: readonly string[];
  readonly description: FileDescription;
  /** Where to start reading; everything before it is already acknowledged. */
  readonly offset: number;
  /** Known when the file was checkpointed before. */
  readonly fingerprint: string | undefined;
  /** Truncations already seen under this inode (the checkpoint's `generation`). */
  readonly generation: number;
  readonly maxRecordBytes: number;
  /**
   * Where the records go, in file order, one by one as a chunk is decoded (synchronously, within
   * `read` and `finish`): each can be encoded and let go before the next is made.
   */
  readonly emit: Emit;
}

/**
 * Reads one file identity: positional reads from an offset, split into lines, decoded into
 * records. Keeps the descriptor open across renames and unlinks, so a rotated or deleted file
 * is read to its end. Knows nothing of other files, of budgets or of the output.
 */
export class Tailer {
  readonly key: string;
  readonly source: SourceKind;
  acks: AckTracker;
  readonly #fh: FileHandle;
  readonly #init: TailerInit;
  readonly #splitter: LineSplitter;
  #file: LogFile | undefined;
  #decoder: Decoder | undefined;
  #offset: number;
  /** Records emitted by the current `read` or `finish`. */
  #emitted = 0;
  /**
   * Counts truncations: a read that started before one must not use what it read, and the
   * content written after one gets `_id`s of its own (`idPrefixOf`).
   */
  #generation: number;
  /** Of the current content: from the checkpoint, then from the first line; unknown again after a truncation. */
  #fingerprint: string | undefined;
  #readTime = '';
  readonly #emit: Emit = (record) => {
    this.#emitted++;
    this.#init.emit(record);
  };
  readonly #onLine: OnLine = (buf, from, to, start, end, cut) =>
    (this.#decoder as Decoder).line(buf, from, to, start, end, cut, this.#readTime, this.#emit);

  state: TailerState = 'following';
  /** Size seen by the last stat, and when the file last grew (for rotate_wait). */
  size = 0;
  lastGrowth = Date.now();
  /**
   * Encoded bytes per byte read, measured on the last chunk: reads are sized so that what they
   * become fits the room left in the memory budget.
   */
  encodedPerByte = 2;
  /** UTF-8 bytes of the items its records became since its last read was accounted for (by the pipeline). */
  encoded = 0;
  /** What `heldBytes` was when the budget last counted it (by the TailManager). */
  heldCounted = 0;
  /** A record being joined (its offset) and since when it waits for its end: see TailManager's partial_wait_ms. */
  waiting = { offset: -1, since: 0 };
  /** When the poll looks at this file next, and its current interval (backs off while idle). */
  nextPoll = 0;
  pollEvery = 0;
  /** Reasons already logged for this file: each problem is logged once per file. */
  readonly reported = new Set<string>();

  constructor(init: TailerInit) {
    this.key = init.key;
    this.#fh = init.fh;
    this.#init = init;
    this.source = init.description.source;
    this.#offset = init.offset;
    this.#generation = init.generation;
    this.#fingerprint = init.fingerprint;
    this.acks = new AckTracker(init.offset);
    this.#splitter = new LineSplitter(init.maxRecordBytes);
  }

  /** The path shown in logs and kept in the checkpoint: the file's real path. */
  get path(): string {
    return this.#init.paths[this.#init.paths.length - 1] as string;
  }

  get matchedPath(): string {
    return this.#init.paths[0] as string;
  }

  /** The fingerprint, known once the first line is complete. */
  get fingerprint(): string | undefined {
    return this.#fingerprint;
  }

  /** The checkpoint that resumes at `offset`; undefined while the first line is incomplete. */
  checkpoint(offset: number): Checkpoint | undefined {
    const fingerprint = this.fingerprint;
    if (fingerprint === undefined) return undefined;
    const generation = this.#generation === 0 ? {} : { generation: this.#generation };
    return { offset, fingerprint, path: this.path, matchedPath: this.matchedPath, ...generation };
  }

  /** Next byte to read. */
  get offset(): number {
    return this.#offset;
  }

  get file(): LogFile | undefined {
    return this.#file;
  }

  /** File offset of the first byte read but not yet part of an emitted record. */
  pendingStart(): number | undefined {
    return this.#decoder?.pending() ?? this.#splitter.pendingStart();
  }

  /**
   * Reads one chunk into `buf` and decodes it, emitting its records. Returns how many records
   * (none at the end of the file) and how many bytes were read; `buf` may be reused once this returns.
   * `toLineEnd`: take no more than the end of the first line (the rest is read again later), to
   * finish a held line without starting another.
   */
  async read(buf: Buffer, toLineEnd = false): Promise<{ records: number; bytes: number }> {
    // A truncation noticed while a read is on its way makes that read's bytes stale: drop them.
    const generation = this.#generation;
    if (this.#file === undefined && !(await this.#identify())) return NOTHING;
    let { bytesRead } = await this.#fh.read(buf, 0, buf.length, this.#offset);
    if (bytesRead === 0 || generation !== this.#generation) return NOTHING;
    if (toLineEnd) {
      const nl = buf.indexOf(10);
      if (nl >= 0 && nl < bytesRead) bytesRead = nl + 1;
    }
    this.#readTime = new Date().toISOString();
    this.#emitted = 0;
    this.#splitter.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), this.#offset, this.#onLine);
    this.#offset += bytesRead;
    if (this.#offset > this.size) this.size = this.#offset;
    return { records: this.#emitted, bytes: bytesRead };
  }

  /** The file is finished: its unfinished last line and any partial record are emitted; returns how many. */
  finish(): number {
    if (this.#decoder === undefined) return 0;
    this.#readTime = new Date().toISOString();
    this.#emitted = 0;
    this.#splitter.finish(this.#offset, this.#onLine);
    this.#decoder.flush(this.#readTime, this.#emit);
    return this.#emitted;
  }

  /** Memory held for the unfinished line and for records being joined. */
  heldBytes(): number {
    return this.#splitter.heldBytes() + (this.#decoder?.heldBytes() ?? 0);
  }

  /** File offset of a record whose parts are still being joined (a CRI `P` waiting for its `F`), if any. */
  joining(): number | undefined {
    return this.#decoder?.pending();
  }

  /** The record being joined will not be finished in time: emitted as it is, flagged incomplete; returns how many. */
  flushIncomplete(): number {
    if (this.#decoder === undefined) return 0;
    this.#readTime = new Date().toISOString();
    this.#emitted = 0;
    this.#decoder.flush(this.#readTime, this.#emit, true);
    return this.#emitted;
  }

  /**
   * The file shrank below what was read (copytruncate): start again at 0 as a new file. Its
   * content is new, so it is fingerprinted again (new `_id`s), and acknowledgements still on
   * their way for the old content go to the old tracker, where they can no longer move the offset.
   */
  truncated(): void {
    this.#generation++;
    this.#offset = 0;
    this.#splitter.reset();
    this.#file = undefined;
    this.#fingerprint = undefined;
    this.#decoder = undefined;
    this.acks = new AckTracker(0);
  }

  /** The file's size now (the callback API: a third of FileHandle.stat's cost, for thousands of polls). */
  stat(): Promise<number> {
    return new Promise((resolve, reject) => fstat(this.#fh.fd, (err, st) => (err ? reject(err) : resolve(st.size))));
  }

  /**
   * The file's size now, and whether its path still leads to it. A followed file is looked at
   * through its path, so a rotation is seen at the next poll whether or not a watch event came:
   * when the path names another file or none (renamed, deleted), `moved` says so and the size
   * comes from the open descriptor. One stat either way while the path holds.
   */
  async look(): Promise<{ size: number; moved: boolean }> {
    if (this.state !== 'following') return { size: await this.stat(), moved: false };
    const size = await new Promise<number | undefined>((resolve) => {
      stat(this.path, (err, st) => resolve(err === null && fileKey(st.dev, st.ino) === this.key ? st.size : undefined));
    });
    return size === undefined ? { size: await this.stat(), moved: true } : { size, moved: false };
  }

  async close(): Promise<void> {
    this.state = 'closed';
    await this.#fh.close();
  }

  /** Fingerprints the file and picks its decoder, once its first line is complete. */
  async #identify(): Promise<boolean> {
    const generation = this.#generation;
    const head = Buffer.allocUnsafe(DETECT_BYTES);
    const { bytesRead } = await this.#fh.read(head, 0, DETECT_BYTES, 0);
    const first = head.subarray(0, bytesRead);
    const fingerprint = fingerprintOf(first.subarray(0, FINGERPRINT_BYTES), this.key);
    if (fingerprint === undefined || generation !== this.#generation) return false;
    // The format is told from the whole first line when it fits (a docker line cut short is not JSON).
    const nl = first.indexOf(10);
    if (nl < 0 && bytesRead < DETECT_BYTES) return false;
    const format = detectFormat(this.path, first, 0, nl < 0 ? first.length : nl);
    const { source, meta } = this.#init.description;
    this.#fingerprint = fingerprint;
    this.#file = { key: this.key, idPrefix: idPrefixOf(fingerprint, generation), path: this.path, matchedPath: this.matchedPath, source, meta };
    this.#decoder = createDecoder(format, this.#file, this.#init.maxRecordBytes);
    return true;
  }
}
