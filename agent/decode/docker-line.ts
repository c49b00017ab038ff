import { isUtf8 } from 'node:buffer';
import type { Stream } from '../core/record.ts';

// The exact shape moby's json-file driver writes (jsonlog.JSONLogs.MarshalJSONBuf): log, stream,
// time, in that order, no spaces. Any other shape (attrs, spaces, other key order) is parsed whole.
const SUFFIX_LENGTH = 28; // `","stream":"stdout","time":"`
const SUFFIX_STDOUT = Buffer.from('","stream":"stdout","time":"', 'latin1');
const SUFFIX_STDERR = Buffer.from('","stream":"stderr","time":"', 'latin1');
const QUOTE = 0x22;
const NEWLINE = '\n';

/**
 * Reads one docker json-file line, `{"log":"text\n","stream":"stdout","time":"..."}`. The common
 * exact shape is read from its known byte positions and only the `log` string literal goes through
 * JSON.parse; anything else is parsed whole. Both give the same fields for the same line.
 * Reusable: `parse` overwrites the fields.
 */
export class DockerLine {
  /** The message without the final `\n`. */
  log = '';
  stream: Stream = 'stdout';
  time = '';
  /** `log` did not end in `\n`: a 16 KiB split, more of this record follows on this stream. */
  partial = false;
  /** The line's bytes were not valid UTF-8 (`log` holds U+FFFD where they were). */
  invalid = false;

  /** False when `buf[from, to)` is not a docker json-file line. */
  parse(buf: Buffer, from: number, to: number): boolean {
    const log = this.readExact(buf, from, to) ?? this.readAny(buf, from, to);
    if (log === undefined) return false;
    const partial = !log.endsWith(NEWLINE);
    this.log = partial ? log : log.slice(0, -1);
    this.partial = partial;
    this.invalid = log.indexOf('\uFFFD') !== -1 && !isUtf8(buf.subarray(from, to));
    return true;
  }

  /** The `log` value when the line has the exact shape docker writes; sets stream and time. */
  private readExact(buf: Buffer, from: number, to: number): string | undefined {
    const min = from + 8 + SUFFIX_LENGTH + 2;
    if (to < min || buf[to - 1] !== 0x7d || buf[to - 2] !== QUOTE) return undefined;
    if (buf[from] !== 0x7b || buf[from + 1] !== QUOTE || buf[from + 2] !== 0x6c || buf[from + 3] !== 0x6f
      || buf[from + 4] !== 0x67 || buf[from + 5] !== QUOTE || buf[from + 6] !== 0x3a || buf[from + 7] !== QUOTE) return undefined;
    // The time holds no quote, so the last quote before `"}` opens it.
    const open = buf.lastIndexOf(QUOTE, to - 3);
    const logEnd = open + 1 - SUFFIX_LENGTH;
    if (logEnd < from + 7 || !isPlainTime(buf, open + 1, to - 2)) return undefined;
    let stream: Stream;
    if (buf.compare(SUFFIX_STDOUT, 0, SUFFIX_LENGTH, logEnd, open + 1) === 0) stream = 'stdout';
    else if (buf.compare(SUFFIX_STDERR, 0, SUFFIX_LENGTH, logEnd, open + 1) === 0) stream = 'stderr';
    else return undefined;
    let log: unknown;
    try {
      // Starts and ends with a quote, so it parses only as exactly one string literal.
      log = JSON.parse(buf.toString('utf8', from + 7, logEnd + 1));
    } catch {
      return undefined;
    }
    if (typeof log !== 'string') return undefined;
    this.stream = stream;
    this.time = buf.toString('latin1', open + 1, to - 2);
    return log;
  }

  private readAny(buf: Buffer, from: number, to: number): string | undefined {
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8', from, to));
    } catch {
      return undefined;
    }
    if (typeof value !== 'object' || value === null) return undefined;
    const { log, stream, time } = value as { log?: unknown; stream?: unknown; time?: unknown };
    if (typeof log !== 'string' || typeof time !== 'string' || (stream !== 'stdout' && stream !== 'stderr')) return undefined;
    this.stream = stream;
    this.time = time;
    return log;
  }
}

/** Only the characters of an RFC 3339 time: nothing JSON would have to escape. */
function isPlainTime(buf: Buffer, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) {
    const b = buf[i] as number;
    if (!((b >= 0x30 && b <= 0x3a) || b === 0x2d || b === 0x2e || b === 0x2b || b === 0x54 || b === 0x5a)) return false;
  }
  return true;
}
