import type { Emit } from '../core/decoder.ts';
import type { LogFile, Stream } from '../core/record.ts';
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
   * Where to resume after a record whose last line ends at `end`: there, unless a part of another
   * record is still pending before it. Resuming re-reads that part (its records get the same
   * offsets, hence the same ids); skipping it would lose it.
   */
  resume(end: number): number {
    const pending = this.earliest();
    return pending < 0 ? end : pending;
  }

  /** Ends the record being joined on `stream`, whose last line ends at `end`. */
  emit(file: LogFile, stream: Stream, end: number, emit: Emit): void {
    const joiner = this.of(stream);
    const offset = joiner.start, time = joiner.time;
    const text = joiner.finish();
    emit(makeRecord(file, offset, this.resume(end), time, stream, text.text, text.truncated, text.invalid ? 'invalid_utf8' : undefined));
  }

  /** Emits every pending record as it is, earliest first; `end` is where the last line read ended. */
  flush(file: LogFile, end: number, emit: Emit): void {
    for (let first = this.earliest(); first >= 0; first = this.earliest()) {
      this.emit(file, this.stdout.start === first ? 'stdout' : 'stderr', end, emit);
    }
  }
}
