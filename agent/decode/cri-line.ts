import type { Stream } from '../core/record.ts';
import { isRfc3339 } from './rfc3339.ts';

const SPACE = 0x20;
const COLON = 0x3a;

/**
 * Reads the fields of one CRI log line, `<time> <stream> <tag> <message>` (kubelet's CRI logging
 * format, written by containerd and CRI-O), without a regular expression and without allocating
 * anything but the time string. Reusable: `scan` overwrites the fields.
 */
export class CriLine {
  /**
   * The timestamp as written: containerd trims fraction zeros and writes `Z`, CRI-O writes 9 digits
   * and `+hh:mm`. A line whose time is not RFC 3339 is not a CRI line (kubelet refuses it too).
   */
  time = '';
  stream: Stream = 'stdout';
  /** Tag `P`: more of this record follows on a later line of the same stream. */
  partial = false;
  /** Offset in the buffer where the message starts. */
  message = 0;

  /** False when `buf[from, to)` is not a CRI line. */
  scan(buf: Buffer, from: number, to: number): boolean {
    const sp = buf.indexOf(SPACE, from);
    if (sp < 0 || sp >= to || !isRfc3339(buf, from, sp)) return false;
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
