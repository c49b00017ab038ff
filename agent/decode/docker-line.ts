import { isUtf8 } from 'node:buffer';
import type { Stream } from '../core/record.ts';
import { isRfc3339, isRfc3339String } from './rfc3339.ts';

// The exact shape moby's json-file driver writes (jsonlog.JSONLogs.MarshalJSONBuf): log, stream,
// time, in that order, no spaces. Any other shape (attrs, spaces, other key order) is parsed whole.
const PREFIX = Buffer.from('{"log":"', 'latin1');
const SUFFIX = Buffer.from('","stream":"stdout","time":"', 'latin1');
const SUFFIX_LENGTH = SUFFIX.length;
const STREAM_AT = 12; // where "stdout" starts in SUFFIX
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = '\n';

/**
 * Reads one docker json-file line, `{"log":"text\n","stream":"stdout","time":"..."}`. The exact
 * shape docker writes is read from its known byte positions, and a `log` that escapes nothing but
 * its final newline is decoded without JSON.parse; anything else goes through JSON.parse. Both give
 * the same fields for the same line (the fuzz test compares them). Reusable: `parse` overwrites the fields.
 */
export class DockerLine {
  /** The message without the final `\n`. */
  log = '';
  stream: Stream = 'stdout';
  time = '';
  /**
   * `time` is RFC 3339. When it is not (`""`, `"qwerty"`: moby never writes that, something else
   * wrote the file), the line is still read: its message is good, only its time must be replaced.
   */
  timeValid = true;
  /** `log` did not end in `\n`: a 16 KiB split, more of this record follows on this stream. */
  partial = false;
  /** The line's bytes were not valid UTF-8 (`log` holds U+FFFD where they were). */
  invalid = false;

  /** The message, let go of here: the parser lives as long as its file is followed. */
  takeLog(): string {
    const log = this.log;
    this.log = '';
    return log;
  }

  /** False when `buf[from, to)` is not a docker json-file line. */
  parse(buf: Buffer, from: number, to: number): boolean {
    if (!this.readExact(buf, from, to) && !this.readAny(buf, from, to)) return false;
    // Decoding replaced invalid bytes with U+FFFD; only a line holding one pays for the check.
    this.invalid = this.log.indexOf('\uFFFD') !== -1 && !isUtf8(buf.subarray(from, to));
    return true;
  }

  /** Reads a line of the exact shape docker writes; false (fields untouched) for any other. */
  private readExact(buf: Buffer, from: number, to: number): boolean {
    if (to < from + 8 + SUFFIX_LENGTH + 2 || buf[to - 1] !== 0x7d || buf[to - 2] !== QUOTE) return false;
    for (let i = 0; i < 8; i++) if (buf[from + i] !== PREFIX[i]) return false;
    // A valid time holds no quote, so the last quote before `"}` opens it. Any other time is
    // left to JSON.parse, which finds where it starts.
    const open = buf.lastIndexOf(QUOTE, to - 3);
    const logEnd = open + 1 - SUFFIX_LENGTH;
    if (logEnd < from + 8 || !isRfc3339(buf, open + 1, to - 2)) return false;
    const stream = suffixStream(buf, logEnd);
    if (stream === undefined) return false;
    const content = from + 8;
    // Content that escapes nothing but a final `\n` is its own UTF-8 text.
    const newline = logEnd - content >= 2 && buf[logEnd - 2] === BACKSLASH && buf[logEnd - 1] === 0x6e;
    const plainEnd = newline ? logEnd - 2 : logEnd;
    if (isPlainText(buf, content, plainEnd)) {
      this.log = buf.toString('utf8', content, plainEnd);
      this.partial = !newline;
    } else {
      let value: unknown;
      try {
        // From quote to quote, so it parses only as exactly one string literal.
        value = JSON.parse(buf.toString('utf8', content - 1, logEnd + 1));
      } catch {
        return false;
      }
      if (typeof value !== 'string') return false;
      this.setLog(value);
    }
    this.stream = stream;
    this.time = buf.toString('latin1', open + 1, to - 2);
    this.timeValid = true;
    return true;
  }

  private readAny(buf: Buffer, from: number, to: number): boolean {
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8', from, to));
    } catch {
      return false;
    }
    if (typeof value !== 'object' || value === null) return false;
    const { log, stream, time } = value as { log?: unknown; stream?: unknown; time?: unknown };
    if (typeof log !== 'string' || typeof time !== 'string' || (stream !== 'stdout' && stream !== 'stderr')) return false;
    this.setLog(log);
    this.stream = stream;
    this.time = time;
    this.timeValid = isRfc3339String(time);
    return true;
  }

  private setLog(log: string): void {
    this.partial = !log.endsWith(NEWLINE);
    this.log = this.partial ? log : log.slice(0, -1);
  }
}

/** The stream named by the fixed suffix that starts at `at`, or undefined if the suffix is not there. */
function suffixStream(buf: Buffer, at: number): Stream | undefined {
  const s = at + STREAM_AT + 3; // "out" or "err"
  for (let i = 0; i < SUFFIX_LENGTH; i++) {
    if (at + i === s) i += 3;
    if (buf[at + i] !== SUFFIX[i]) return undefined;
  }
  if (buf[s] === 0x6f && buf[s + 1] === 0x75 && buf[s + 2] === 0x74) return 'stdout';
  if (buf[s] === 0x65 && buf[s + 1] === 0x72 && buf[s + 2] === 0x72) return 'stderr';
  return undefined;
}

/** Nothing JSON escapes: no control character, quote or backslash. */
function isPlainText(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = buf[i] as number;
    if (b < 0x20 || b === QUOTE || b === BACKSLASH) return false;
  }
  return true;
}
