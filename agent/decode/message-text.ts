import { isUtf8 } from 'node:buffer';

const REPLACEMENT = '\uFFFD';

/**
 * The text of one message, cut to the maximum record size. A reusable scratch object (one per
 * decoder) so that the hot path allocates nothing but the string itself.
 */
export class MessageText {
  text = '';
  /** Bytes were dropped: the message was longer than the maximum, or the tailer cut the line. */
  truncated = false;
  /** The bytes were not valid UTF-8; `text` holds U+FFFD where they were. */
  invalid = false;

  /**
   * Decodes `buf[from, to)` as UTF-8, keeping at most `max` bytes. `cut` says the bytes are
   * already the head of something longer (the tailer dropped the rest of the line).
   */
  read(buf: Buffer, from: number, to: number, max: number, cut: boolean): void {
    let end = to;
    let truncated = cut;
    if (to - from > max) {
      end = from + max;
      truncated = true;
    }
    if (truncated) end = completeEnd(buf, from, end);
    const text = buf.toString('utf8', from, end);
    this.text = text;
    this.truncated = truncated;
    // Decoding replaced every invalid sequence with U+FFFD, so a string without one came from
    // valid bytes; only the rare string that has one (decoded or written so) pays for the
    // check. For a one-byte (latin1) string V8 answers this indexOf without scanning.
    this.invalid = text.indexOf(REPLACEMENT) !== -1 && !isUtf8(buf.subarray(from, end));
  }

  /**
   * The text, let go of here: the scratch object lives as long as its file is followed, and must
   * not keep the file's last message (up to max_record_bytes) alive until the next one.
   */
  take(): string {
    const text = this.text;
    this.text = '';
    return text;
  }

  /** Keeps at most `max` UTF-8 bytes of an already decoded string (docker `log` values). */
  readString(text: string, max: number): void {
    this.invalid = false;
    // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no counting.
    if (text.length * 3 <= max || Buffer.byteLength(text, 'utf8') <= max) {
      this.text = text;
      this.truncated = false;
      return;
    }
    const bytes = Buffer.from(text, 'utf8');
    this.text = bytes.toString('utf8', 0, completeEnd(bytes, 0, max));
    this.truncated = true;
  }
}

/**
 * Where to end a cut so that it does not split a multi-byte character: `to`, or the start of a
 * UTF-8 sequence at the end of `buf[from, to)` that needs more bytes than are left.
 */
function completeEnd(buf: Buffer, from: number, to: number): number {
  const stop = Math.max(from, to - 4);
  for (let i = to - 1; i >= stop; i--) {
    const b = buf[i] as number;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: the sequence started earlier
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + need > to ? i : to;
  }
  return to;
}
