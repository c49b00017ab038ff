import type { LogRecord } from './record.ts';

export type Emit = (record: LogRecord) => void;

/**
 * Turns the lines of one file into records. One instance per file: it holds the parts of a
 * record that is being joined (CRI `P` lines, docker 16 KiB chunks). Pure apart from that state:
 * no I/O, never throws on bad input.
 */
export interface Decoder {
  /**
   * One complete line: `buf[from, to)` without its `\n`. `start` is the file offset of
   * `buf[from]`; `end` the offset just after the line's `\n`. `cut` is true when the tailer
   * already dropped the rest of an over-long line. `readTime` is the RFC 3339 time the chunk
   * was read, for lines that carry no timestamp.
   */
  line(buf: Buffer, from: number, to: number, start: number, end: number, cut: boolean, readTime: string, emit: Emit): void;
  /** File offset of the first byte of a record still being joined, if any. */
  pending(): number | undefined;
  /** Bytes held for records still being joined (they count in the memory budget). */
  heldBytes(): number;
  /**
   * Emit whatever is still being joined: the file is finished (deleted or rotated and drained),
   * or, `incomplete`, the rest of a record never came in time (flagged `incomplete`).
   */
  flush(readTime: string, emit: Emit, incomplete?: boolean): void;
}
