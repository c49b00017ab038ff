/**
 * `buf[from, to)` is one line without its `\n`; `start` is the file offset of `buf[from]`, `end`
 * the offset after the `\n`. `cut` is true when the line was longer than the maximum and its
 * end was dropped.
 */
export type OnLine = (buf: Buffer, from: number, to: number, start: number, end: number, cut: boolean) => void;

const EMPTY = Buffer.alloc(0);

/**
 * Splits the bytes of one file into lines with `Buffer.indexOf`. Lines inside a chunk are
 * handed on as views of the chunk (no copy); only the unfinished line at a chunk's end is
 * copied, into a carry buffer that never grows past `maxLineBytes` (the rest of an over-long
 * line is skipped, and the line is reported as cut) and is let go once the line is complete.
 */
export class LineSplitter {
  readonly #max: number;
  #carry: Buffer = EMPTY;
  #carryLength = 0;
  #carryStart = -1; // file offset of the unfinished line; -1: none
  #cut = false;

  constructor(maxLineBytes: number) {
    this.#max = maxLineBytes;
  }

  /** File offset where the unfinished line starts, or undefined. */
  pendingStart(): number | undefined {
    return this.#carryStart < 0 ? undefined : this.#carryStart;
  }

  /** Bytes of the unfinished line held in memory. */
  pendingBytes(): number {
    return this.#carryLength;
  }

  /** Memory held for the unfinished line: its buffer, which may be larger than the line. */
  heldBytes(): number {
    return this.#carry.length;
  }

  /** Forget the unfinished line (the file was truncated). */
  reset(): void {
    this.#carryLength = 0;
    this.#carryStart = -1;
    this.#cut = false;
    this.#carry = EMPTY;
  }

  /** `chunk` holds bytes read at file offset `offset`; it may be reused by the caller afterwards. */
  push(chunk: Buffer, offset: number, onLine: OnLine): void {
    const length = chunk.length;
    let i = 0;
    if (this.#carryStart >= 0) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.#append(chunk, 0, length);
        return;
      }
      this.#append(chunk, 0, nl);
      this.#emitCarry(offset + nl + 1, onLine);
      i = nl + 1;
    }
    const max = this.#max;
    let nl = chunk.indexOf(10, i);
    while (nl >= 0) {
      if (nl - i > max) onLine(chunk, i, i + max, offset + i, offset + nl + 1, true);
      else onLine(chunk, i, nl, offset + i, offset + nl + 1, false);
      i = nl + 1;
      nl = i < length ? chunk.indexOf(10, i) : -1;
    }
    if (i < length) {
      this.#carryStart = offset + i;
      this.#append(chunk, i, length);
    }
  }

  /** The unfinished line as a final line (the file is finished); the caller passes the file's end offset. */
  finish(end: number, onLine: OnLine): void {
    if (this.#carryStart >= 0) this.#emitCarry(end, onLine);
  }

  #emitCarry(end: number, onLine: OnLine): void {
    const start = this.#carryStart;
    const length = this.#carryLength;
    const cut = this.#cut;
    this.#carryLength = 0;
    this.#carryStart = -1;
    this.#cut = false;
    onLine(this.#carry, 0, length, start, end, cut);
    // Not kept for the next line: thousands of files would each hold a buffer grown for their
    // longest line (up to max_record_bytes), where they need one only while a line is unfinished.
    this.#carry = EMPTY;
  }

  #append(chunk: Buffer, from: number, to: number): void {
    const room = this.#max - this.#carryLength;
    const n = Math.min(to - from, room);
    if (n < to - from) this.#cut = true;
    if (n > 0) {
      const needed = this.#carryLength + n;
      if (needed > this.#carry.length) {
        const grown = Buffer.allocUnsafe(Math.min(this.#max, Math.max(needed, this.#carry.length * 2, 1024)));
        this.#carry.copy(grown, 0, 0, this.#carryLength);
        this.#carry = grown;
      }
      chunk.copy(this.#carry, this.#carryLength, from, from + n);
      this.#carryLength = needed;
    }
  }
}
