import type { Emit } from '../core/decoder.ts';
import type { DecodeError, LogFile, Stream } from '../core/record.ts';
import { makeRecord } from './make-record.ts';
import type { Joiner } from './joiner.ts';

/**
 * The record being joined on each stream. Runtimes interleave stdout and stderr lines, so each
 * stream joins on its own; this also decides where a reader may resume while parts are pending.
 */
export class StreamJoiners<J extends Joiner> {
  readonly stdout: J;
  readonly stderr: J;

  constructor(stdout: J, stderr: J) {
    this.stdout = stdout;
    this.stderr = stderr;
  }

  of(stream: Stream): J {
    return stream === 'stdout' ? this.stdout : this.stderr;
  }

  /** File offset of the earliest part still being joined, or -1. */
  earliest(): number {
    const a = this.stdout.start, b = this.stderr.start;
    if (a < 0) return b;
    if (b < 0) return a;
    return a < b ? a : b;
  }

  /**
   * Where to resume after a record that starts at `start` and whose last line ends at `end`:
   * `end`, unless a part of another record is still pending. Then records overlap, and until
   * none is pending every record resumes at the earliest start of the overlapping group: a
   * restart re-reads whole records (same offsets, hence the same ids, answered 409), never the
   * tail of one that was already sent (a fragment under a new id) nor past a pending part (lost).
   */
  resume(start: number, end: number): number {
    const pending = this.earliest();
    if (pending < 0) {
      this.#floor = -1;
      return end;
    }
    const low = start < pending ? start : pending;
    if (this.#floor < 0 || low < this.#floor) this.#floor = low;
    return this.#floor;
  }

  /** Earliest start of the group of overlapping records still being read, or -1. */
  #floor = -1;

  /** Where a reader may resume now: the overlap floor or the earliest pending part; -1 when nothing is pending. */
  safeResume(): number {
    const pending = this.earliest();
    if (pending < 0) return -1;
    return this.#floor >= 0 && this.#floor < pending ? this.#floor : pending;
  }

  /** Ends the record being joined on `stream`, whose last line ends at `end`; `error` flags it. */
  emit(file: LogFile, stream: Stream, end: number, emit: Emit, error?: DecodeError): void {
    const joiner = this.of(stream);
    // An incomplete record says so first; else the first part's own flag (a time replaced).
    const offset = joiner.start, time = joiner.time, flag = error ?? joiner.error;
    const text = joiner.finish();
    emit(makeRecord(file, offset, this.resume(offset, end), time, stream, text.take(), text.truncated,
      flag ?? (text.invalid ? 'invalid_utf8' : undefined)));
  }

  /** Emits every pending record as it is, earliest first; `end` is where the last line read ended. */
  flush(file: LogFile, end: number, emit: Emit, error?: DecodeError): void {
    for (let first = this.earliest(); first >= 0; first = this.earliest()) {
      this.emit(file, this.stdout.start === first ? 'stdout' : 'stderr', end, emit, error);
    }
  }
}
