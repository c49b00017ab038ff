import { isRfc3339 } from './rfc3339.ts';

const DAY_MS = 86_400_000;
/** `Jan`..`Dec` as the three bytes of a traditional syslog time, to their month index. */
const MONTHS = new Map(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((m, i) => [m, i]));
/** `Nov 22 10:00:00 ` */
const SYSLOG_TIME_BYTES = 16;

/**
 * The time a host log line says it was written, when it starts with one, as rsyslog, syslog-ng
 * and most daemons write it:
 * - RFC 3339 (`2026-11-22T10:00:00.123456+01:00`, rsyslog's high-precision format): kept as written;
 * - the traditional syslog time (`Nov 22 10:00:00`, RFC 3164), which has no year and no zone: it
 *   is read in the agent's time zone (`TZ`, UTC in the image) and in the year that puts it no more
 *   than a day after the read time (December's lines read in January are last year's).
 * Undefined for any other line, which is then timed when read. The same line gives the same time
 * when it is read again after a restart, so it goes to the same daily index under the same `_id`.
 * One per file: consecutive lines of the same second reuse the last result.
 */
export class HostTime {
  #lastKey = '';
  #lastTime: string | undefined;

  of(buf: Buffer, from: number, to: number, readTime: string): string | undefined {
    if (to - from >= SYSLOG_TIME_BYTES && buf[from + 3] === 0x20 && buf[from + 6] === 0x20 && buf[from + 15] === 0x20) {
      return this.#syslog(buf.toString('latin1', from, from + 15), readTime);
    }
    const sp = buf.indexOf(0x20, from);
    if (sp < 0 || sp >= to || !isRfc3339(buf, from, sp)) return undefined;
    return buf.toString('latin1', from, sp);
  }

  #syslog(text: string, readTime: string): string | undefined {
    const year = readTime.slice(0, 4);
    const key = year + text;
    if (key !== this.#lastKey) {
      this.#lastKey = key;
      this.#lastTime = syslogTime(text, Number(year), Date.parse(readTime));
    }
    return this.#lastTime;
  }
}

/** `Nov 22 10:00:00` / `Nov  2 10:00:00` as an RFC 3339 UTC time, or undefined when it is not one. */
function syslogTime(text: string, year: number, now: number): string | undefined {
  const month = MONTHS.get(text.slice(0, 3));
  const m = /^ ?(\d{1,2}) (\d\d):(\d\d):(\d\d)$/.exec(text.slice(4));
  if (month === undefined || m === null) return undefined;
  const [day, hours, minutes, seconds] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (hours > 23 || minutes > 59 || seconds > 60) return undefined;
  let date = new Date(year, month, day, hours, minutes, seconds);
  if (date.getTime() > now + DAY_MS) date = new Date(year - 1, month, day, hours, minutes, seconds);
  // `Feb 30` would become March the 2nd: not a date.
  if (date.getMonth() !== month || date.getDate() !== day) return undefined;
  return date.toISOString();
}
