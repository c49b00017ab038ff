import type { Stream } from '../core/record.ts';

const SPACE = 0x20;
const COLON = 0x3a;

/**
 * Reads the fields of one CRI log line, `<time> <stream> <tag> <message>` (kubelet's CRI logging
 * format, written by containerd and CRI-O), without a regular expression and without allocating
 * anything but the time string. Reusable: `scan` overwrites the fields.
 */
export class CriLine {
  /** The timestamp as written: containerd trims fraction zeros and writes `Z`, CRI-O writes 9 digits and `+hh:mm`. */
  time = '';
  stream: Stream = 'stdout';
  /** Tag `P`: more of this record follows on a later line of the same stream. */
  partial = false;
  /** Offset in the buffer where the message starts. */
  message = 0;

  /** False when `buf[from, to)` is not a CRI line. */
  scan(buf: Buffer, from: number, to: number): boolean {
    const sp = buf.indexOf(SPACE, from);
    if (sp < 0 || sp >= to || !isTimestamp(buf, from, sp)) return false;
    // " stdout " or " stderr ": both streams are six bytes long.
    const s = sp + 1;
    if (s + 7 > to || buf[s] !== 0x73 || buf[s + 1] !== 0x74 || buf[s + 2] !== 0x64 || buf[s + 6] !== SPACE) return false;
    const a = buf[s + 3], b = buf[s + 4], c = buf[s + 5];
    let stream: Stream;
    if (a === 0x6f && b === 0x75 && c === 0x74) stream = 'stdout';
    else if (a === 0x65 && b === 0x72 && c === 0x72) stream = 'stderr';
    else return false;
    // The tag: F or P, which kubelet says may later grow ":"-separated extras.
    const t = s + 7;
    if (t >= to) return false;
    const tag = buf[t];
    if (tag !== 0x46 && tag !== 0x50) return false;
    let message: number;
    const next = t + 1;
    if (next >= to) {
      message = to; // "<ts> stdout F" without the space: an empty message
    } else if (buf[next] === SPACE) {
      message = next + 1;
    } else if (buf[next] === COLON) {
      const end = buf.indexOf(SPACE, next);
      message = end < 0 || end >= to ? to : end + 1;
    } else {
      return false;
    }
    this.time = buf.toString('latin1', from, sp);
    this.stream = stream;
    this.partial = tag === 0x50;
    this.message = message;
    return true;
  }
}

function isDigit(buf: Buffer, i: number): boolean {
  const b = buf[i] as number;
  return b >= 0x30 && b <= 0x39;
}

function isDigits(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isDigit(buf, i)) return false;
  return true;
}

/** RFC 3339 as the runtimes write it: `YYYY-MM-DDThh:mm:ss[.1-9 digits](Z|±hh:mm)`. */
export function isTimestamp(buf: Buffer, from: number, to: number): boolean {
  if (to - from < 20) return false;
  if (buf[from + 4] !== 0x2d || buf[from + 7] !== 0x2d || buf[from + 10] !== 0x54 || buf[from + 13] !== COLON || buf[from + 16] !== COLON) return false;
  if (!isDigits(buf, from, from + 4) || !isDigits(buf, from + 5, from + 7) || !isDigits(buf, from + 8, from + 10)) return false;
  if (!isDigits(buf, from + 11, from + 13) || !isDigits(buf, from + 14, from + 16) || !isDigits(buf, from + 17, from + 19)) return false;
  let i = from + 19;
  if (buf[i] === 0x2e) {
    const digits = i + 1;
    i = digits;
    while (i < to && i - digits < 10 && isDigit(buf, i)) i++;
    if (i === digits || i - digits > 9) return false;
  }
  if (buf[i] === 0x5a) return i + 1 === to;
  if (buf[i] !== 0x2b && buf[i] !== 0x2d) return false;
  return i + 6 === to && isDigits(buf, i + 1, i + 3) && buf[i + 3] === COLON && isDigits(buf, i + 4, i + 6);
}
