const DASH = 0x2d;
const COLON = 0x3a;
const DOT = 0x2e;
const T = 0x54;
const Z = 0x5a;
const PLUS = 0x2b;
/** Days in each month of a common year; February gains one in a leap year. */
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** The longest time accepted: 19 + 10 (a dot and nanoseconds) + 6 (an offset). */
const RFC3339_MAX_BYTES = 35;

/**
 * Whether `buf[from, to)` is an RFC 3339 time as the container runtimes write it and as kubelet
 * reads it (Go's `time.Parse` with `RFC3339Nano`): `YYYY-MM-DDThh:mm:ss[.1-9 digits](Z|±hh:mm)`,
 * each field in its range (February 29 only in a leap year; no second 60, which Go refuses). The
 * record's time goes to Elasticsearch's `@timestamp`, a date field that refuses anything else, so a
 * time that fails here is never shipped as it is. `T` and `Z` are upper case, as every runtime and
 * Go write them.
 */
export function isRfc3339(buf: Buffer, from: number, to: number): boolean {
  if (to - from < 20 || to - from > RFC3339_MAX_BYTES) return false;
  if (buf[from + 4] !== DASH || buf[from + 7] !== DASH || buf[from + 10] !== T || buf[from + 13] !== COLON || buf[from + 16] !== COLON) return false;
  const century = twoDigits(buf, from), year = twoDigits(buf, from + 2), month = twoDigits(buf, from + 5), day = twoDigits(buf, from + 8);
  if (century < 0 || year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, century * 100 + year)) return false;
  const hour = twoDigits(buf, from + 11), minute = twoDigits(buf, from + 14), second = twoDigits(buf, from + 17);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  let i = from + 19;
  if (buf[i] === DOT) {
    const first = i + 1;
    i = first;
    while (i < to && isDigit(buf[i] as number)) i++;
    if (i === first || i - first > 9) return false;
  }
  if (i === to - 1) return buf[i] === Z;
  if (i + 6 !== to || (buf[i] !== PLUS && buf[i] !== DASH) || buf[i + 3] !== COLON) return false;
  const offsetHour = twoDigits(buf, i + 1), offsetMinute = twoDigits(buf, i + 4);
  return offsetHour >= 0 && offsetHour <= 23 && offsetMinute >= 0 && offsetMinute <= 59;
}

/** The same check for a time that JSON gave as a string. */
export function isRfc3339String(time: string): boolean {
  if (time.length > RFC3339_MAX_BYTES) return false;
  // UTF-8, never latin1: a character above U+00FF must not turn into a digit.
  const bytes = Buffer.from(time, 'utf8');
  return isRfc3339(bytes, 0, bytes.length);
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** The value of the two digits at `at` (inside the buffer), or -1 if either is not a digit. */
function twoDigits(buf: Buffer, at: number): number {
  const a = buf[at] as number, b = buf[at + 1] as number;
  return isDigit(a) && isDigit(b) ? (a - 0x30) * 10 + (b - 0x30) : -1;
}

function daysIn(month: number, year: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS[month - 1] as number;
}
