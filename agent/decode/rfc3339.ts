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
  const year = digits(buf, from, 4), month = digits(buf, from + 5, 2), day = digits(buf, from + 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return false;
  const hour = digits(buf, from + 11, 2), minute = digits(buf, from + 14, 2), second = digits(buf, from + 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  let i = from + 19;
  if (buf[i] === DOT) {
    const first = i + 1;
    i = first;
    while (i < to && digits(buf, i, 1) >= 0) i++;
    if (i === first || i - first > 9) return false;
  }
  if (i === to - 1) return buf[i] === Z;
  if (i + 6 !== to || (buf[i] !== PLUS && buf[i] !== DASH) || buf[i + 3] !== COLON) return false;
  const offsetHour = digits(buf, i + 1, 2), offsetMinute = digits(buf, i + 4, 2);
  return offsetHour >= 0 && offsetHour <= 23 && offsetMinute >= 0 && offsetMinute <= 59;
}

/** The same check for a time that JSON gave as a string. */
export function isRfc3339String(time: string): boolean {
  if (time.length > RFC3339_MAX_BYTES) return false;
  // UTF-8, never latin1: a character above U+00FF must not turn into a digit.
  const bytes = Buffer.from(time, 'utf8');
  return isRfc3339(bytes, 0, bytes.length);
}

/** The decimal value of `count` digits at `at`, or -1 if one of them is not a digit. */
function digits(buf: Buffer, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = (buf[i] ?? 0) - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

function daysIn(month: number, year: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS[month - 1] as number;
}
