import { Joiner } from './joiner.ts';
import type { MessageText } from './message-text.ts';

/**
 * The parts of one CRI record being joined (`P` lines of one stream), as bytes: a runtime splits
 * at a byte count, so a character may straddle two parts. Holds at most `max` bytes; once the
 * record is over the limit the rest is dropped.
 */
export class ByteJoiner extends Joiner {
  private parts: Buffer[] = [];
  private size = 0;

  /** Copies `buf[from, to)`: the tailer reuses its buffers. */
  add(buf: Buffer, from: number, to: number, cut: boolean): void {
    if (this.truncated) return;
    let n = to - from;
    const room = this.max - this.size;
    // After a cut nothing more is kept, or the message would have a hole in the middle.
    if (n > room || cut) {
      n = Math.min(n, room);
      this.truncated = true;
    }
    if (n <= 0) return;
    const copy = Buffer.allocUnsafe(n);
    buf.copy(copy, 0, from, from + n);
    this.parts.push(copy);
    this.size += n;
  }

  held(): number {
    return this.size;
  }

  finish(): MessageText {
    const bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    this.out.read(bytes, 0, this.size, this.max, this.truncated);
    this.parts = [];
    this.size = 0;
    this.reset();
    return this.out;
  }
}
