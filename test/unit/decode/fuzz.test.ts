import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogFile, LogFormat, LogRecord, Stream } from '../../../agent/core/record.ts';
import { createDecoder } from '../../../agent/decode/create-decoder.ts';
import { DockerLine } from '../../../agent/decode/docker-line.ts';
import { isRfc3339String } from '../../../agent/decode/rfc3339.ts';
import { SeededRandom } from './seeded-random.ts';

// Bounded and seeded: the same cases on every run, a few seconds in all. A failure prints the seed.

const READ_TIME = '2026-11-22T10:00:00.000Z';
const FIELD_ORDER = ['file', 'offset', 'resume', 'time', 'stream', 'message', 'truncated', 'error'];
const ERRORS = new Set([undefined, 'malformed_cri', 'malformed_docker', 'invalid_utf8']);
const file: LogFile = { key: '1:2', idPrefix: 'x', path: '/p', matchedPath: '/p', source: 'pods', meta: {} };
// Bytes that matter to the parsers, so random lines hit their branches more often than pure noise would.
const SPECIAL = Buffer.from(' :PF"\\{}nZT.+-0123456789stdouterr\r\t\x00\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\xc0', 'latin1');

interface Line { bytes: Buffer; cut: boolean }

function randomBytes(rng: SeededRandom, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    const b = rng.next() < 0.6 ? rng.pick([...SPECIAL]) : rng.int(256);
    bytes[i] = b === 0x0a ? 0x20 : b; // a line never holds its own newline
  }
  return bytes;
}

/** A random edit of a line: bytes flipped, dropped, inserted, duplicated, or the line cut short. */
function mutate(rng: SeededRandom, line: Buffer): Buffer {
  let bytes = Buffer.from(line);
  for (let edits = 1 + rng.int(3); edits > 0; edits--) {
    const at = rng.int(bytes.length + 1);
    switch (rng.int(5)) {
      case 0: if (at < bytes.length) bytes[at] = randomBytes(rng, 1)[0] as number; break;
      case 1: bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + rng.int(4))]); break;
      case 2: bytes = Buffer.concat([bytes.subarray(0, at), randomBytes(rng, 1 + rng.int(4)), bytes.subarray(at)]); break;
      case 3: bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(rng.int(at + 1), at), bytes.subarray(at)]); break;
      default: bytes = bytes.subarray(0, at);
    }
  }
  return bytes;
}

/** Code points of every UTF-8 length, controls and NUL included, never a newline or a lone surrogate. */
function randomText(rng: SeededRandom, maxBytes: number): string {
  const parts: string[] = [];
  let bytes = 0;
  const target = rng.int(maxBytes + 1);
  while (bytes < target) {
    const kind = rng.next();
    let cp: number;
    if (kind < 0.55) cp = 0x20 + rng.int(0x5f);
    else if (kind < 0.6) cp = rng.pick([0, 9, 13, 0x1f, 0x22, 0x5c, 0x7f]);
    else if (kind < 0.75) cp = 0x80 + rng.int(0x780);
    else if (kind < 0.9) { do cp = 0x800 + rng.int(0xf800); while (cp >= 0xd800 && cp <= 0xdfff); }
    else cp = 0x10000 + rng.int(0x100000);
    const char = String.fromCodePoint(cp);
    parts.push(char);
    bytes += Buffer.byteLength(char);
  }
  return parts.join('');
}

function randomTime(rng: SeededRandom): string {
  const base = `2024-0${1 + rng.int(9)}-1${rng.int(10)}T1${rng.int(10)}:${10 + rng.int(50)}:${10 + rng.int(50)}`;
  if (rng.next() < 0.5) return `${base}.${String(rng.int(1e9)).padStart(9, '0')}+0${rng.int(10)}:00`; // CRI-O
  const digits = rng.int(10);
  return `${base}${digits === 0 ? '' : `.${String(1 + rng.int(9)).repeat(digits)}`}Z`; // containerd
}

/** The shape of an RFC 3339 time with random digits: month 13, February 30, hour 24, offset +25:00... */
function randomDigitsTime(rng: SeededRandom): string {
  const d = (n: number): string => Array.from({ length: n }, () => String(rng.int(rng.next() < 0.7 ? 3 : 10))).join('');
  const zone = rng.next() < 0.5 ? 'Z' : `${rng.pick(['+', '-'])}${d(2)}:${d(2)}`;
  return `${rng.pick(['2024', '2023', '2000', '1900', d(4)])}-${d(2)}-${d(2)}T${d(2)}:${d(2)}:${d(2)}${rng.next() < 0.5 ? '' : `.${d(1 + rng.int(10))}`}${zone}`;
}

/** What a message of `limit` bytes at most keeps of `text`: whole characters only. */
function expectedHead(text: string, limit: number): { message: string; truncated: boolean } {
  const bytes = Buffer.from(text);
  if (bytes.length <= limit) return { message: text, truncated: false };
  let cut = limit;
  while (cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80) cut--;
  return { message: bytes.toString('utf8', 0, cut), truncated: true };
}

/** Decodes the lines laid out from offset 0, checking every record as it comes, then flushes. */
function decodeChecked(format: LogFormat, lines: Line[], max: number): LogRecord[] {
  const decoder = createDecoder(format, file, max);
  const records: LogRecord[] = [];
  const starts = new Set<number>();
  let lineEnd = 0;
  const emit = (record: LogRecord): void => {
    assert.equal(record.file, file);
    assert.deepEqual(Object.keys(record), FIELD_ORDER);
    assert.ok(starts.has(record.offset), `offset ${record.offset} is the start of a line`);
    // Resume where the last line ended, or at the earliest part still pending: never past it.
    assert.equal(record.resume, decoder.pending() ?? lineEnd);
    assert.ok(ERRORS.has(record.error));
    assert.equal(typeof record.truncated, 'boolean');
    assert.equal(typeof record.message, 'string');
    const malformed = record.error === 'malformed_cri' || record.error === 'malformed_docker';
    if (malformed) {
      // A docker line whose only fault is its time keeps its stream.
      if (record.error === 'malformed_cri') assert.equal(record.stream, undefined);
      assert.equal(record.time, READ_TIME);
    } else if (format === 'plain') {
      assert.equal(record.stream, undefined);
    } else {
      assert.ok(record.stream === 'stdout' || record.stream === 'stderr');
    }
    // Every time shipped is one Elasticsearch takes: RFC 3339 from the line, or the read time.
    assert.ok(record.time === READ_TIME || isRfc3339String(record.time), record.time);
    // U+FFFD stands for one invalid byte or more: three bytes where there was one at the least.
    const bytes = Buffer.byteLength(record.message);
    assert.ok(record.error === undefined ? bytes <= max : bytes <= 3 * max, `${bytes} bytes with max ${max}`);
    records.push(record);
  };
  const whole = Buffer.concat(lines.flatMap(({ bytes }) => [bytes, Buffer.from('\n')]));
  let at = 0;
  for (const { bytes, cut } of lines) {
    starts.add(at);
    lineEnd = at + bytes.length + 1;
    decoder.line(whole, at, at + bytes.length, at, lineEnd, cut, READ_TIME, emit);
    at = lineEnd;
  }
  decoder.flush(READ_TIME, emit);
  assert.equal(decoder.pending(), undefined);
  assert.equal(new Set(records.map((r) => r.offset)).size, records.length, 'one record per starting line');
  return records;
}

function validCri(rng: SeededRandom): Buffer {
  const tag = rng.pick(['F', 'P', 'F:x', 'P:a:b']);
  return Buffer.from(`${randomTime(rng)} ${rng.pick(['stdout', 'stderr'])} ${tag} ${randomText(rng, 80)}`);
}

function validDocker(rng: SeededRandom): Buffer {
  const log = randomText(rng, 80) + (rng.next() < 0.7 ? '\n' : '');
  const stream = rng.pick(['stdout', 'stderr']);
  const object = rng.next() < 0.8 ? { log, stream, time: randomTime(rng) } : { log, stream, attrs: { a: 'b' }, time: randomTime(rng) };
  return Buffer.from(JSON.stringify(object));
}

test('random bytes never throw and always give well-formed records, in every format', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rng = new SeededRandom(seed);
    const lines: Line[] = [];
    for (let i = 0; i < 200; i++) lines.push({ bytes: randomBytes(rng, rng.int(120)), cut: rng.next() < 0.05 });
    const max = 16 + rng.int(100);
    for (const format of ['cri', 'docker', 'plain'] as const) {
      const records = decodeChecked(format, lines, max);
      assert.ok(records.length > 0, `seed ${seed}`);
    }
  }
});

test('random edits of valid CRI and docker lines never throw and give well-formed records', () => {
  let joined = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const rng = new SeededRandom(1000 + seed);
    for (const format of ['cri', 'docker'] as const) {
      const lines: Line[] = [];
      for (let i = 0; i < 200; i++) {
        const valid = format === 'cri' ? validCri(rng) : validDocker(rng);
        lines.push({ bytes: rng.next() < 0.5 ? mutate(rng, valid) : valid, cut: rng.next() < 0.02 });
      }
      const records = decodeChecked(format, lines, 24 + rng.int(200));
      joined += records.filter((r) => r.error === undefined).length;
    }
  }
  assert.ok(joined > 5000, `the valid lines decode (${joined})`); // the cases do reach the joining code
});

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d{1,9})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/u;

/** RFC 3339 checked another way than the decoders do: a pattern, then the date's fields read back from Date. */
function referenceTimeValid(time: string): boolean {
  const m = RFC3339.exec(time);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day &&
    date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
}

/** JSON.parse of the whole line: what the exact-shape path must agree with. */
function referenceDocker(line: Buffer): { log: string; partial: boolean; stream: Stream; time: string; timeValid: boolean } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { log, stream, time } = value as Record<string, unknown>;
  if (typeof log !== 'string' || typeof time !== 'string' || (stream !== 'stdout' && stream !== 'stderr')) return undefined;
  const partial = !log.endsWith('\n');
  return { log: partial ? log : log.slice(0, -1), partial, stream, time, timeValid: referenceTimeValid(time) };
}

test('the docker exact-shape path reads every line as JSON.parse does: escapes, unicode, NUL, edits', () => {
  const rng = new SeededRandom(7);
  const reader = new DockerLine();
  const escapes = ['\\n', '\\"', '\\\\', '\\/', '\\t', '\\u0000', '\\u00e9', '\\ud83d\\ude00', '\\ud800', '\\ufffd', '\\r', '\\b', '\\f', '\\x', '\\u12', '"', '\t', '\\'];
  for (let i = 0; i < 30_000; i++) {
    let line: Buffer;
    if (i % 3 === 0) {
      // Hand-made literals: escapes JSON.stringify would never write, and some it would reject.
      let log = '';
      for (let n = rng.int(6); n >= 0; n--) log += rng.next() < 0.5 ? rng.pick(escapes) : randomText(rng, 8);
      if (rng.next() < 0.7) log += '\\n';
      const time = rng.next() < 0.5 ? randomTime(rng) : randomDigitsTime(rng);
      line = Buffer.from(`{"log":"${log}","stream":"${rng.pick(['stdout', 'stderr'])}","time":"${time}"}`);
    } else {
      line = validDocker(rng);
      if (i % 3 === 2) line = mutate(rng, line);
    }
    const expected = referenceDocker(line);
    const padded = Buffer.concat([Buffer.from('{"log":"x'), line, Buffer.from('"}')]);
    const ok = reader.parse(padded, 9, 9 + line.length);
    assert.equal(ok, expected !== undefined, line.toString());
    if (expected !== undefined) {
      const { log, partial, stream, time, timeValid } = reader;
      assert.deepEqual({ log, partial, stream, time, timeValid }, expected, line.toString());
    }
  }
});

test('a random message written as CRI P parts split at random byte sizes decodes back exactly', () => {
  const rng = new SeededRandom(99);
  for (let round = 0; round < 40; round++) {
    const max = 1024 + rng.int(128 * 1024);
    // Both streams at once, their parts interleaved as a runtime writes them.
    const messages = { stdout: randomText(rng, 100 * 1024), stderr: randomText(rng, 100 * 1024) };
    const parts: { stream: Stream; line: Buffer }[] = [];
    const queues = (['stdout', 'stderr'] as const).map((stream) => {
      const bytes = Buffer.from(messages[stream]);
      const lines: Buffer[] = [];
      let at = 0;
      do {
        const size = rng.next() < 0.1 ? rng.int(4) : 1 + rng.int(20_000); // a part may cut a character
        const end = Math.min(bytes.length, at + size);
        const tag = end === bytes.length ? rng.pick(['F', 'F:x']) : rng.pick(['P', 'P:y']);
        lines.push(Buffer.concat([Buffer.from(`${randomTime(rng)} ${stream} ${tag} `), bytes.subarray(at, end)]));
        at = end;
      } while (at < bytes.length);
      return { stream, lines };
    });
    while (queues.some((q) => q.lines.length > 0)) {
      const q = rng.pick(queues.filter((candidate) => candidate.lines.length > 0));
      parts.push({ stream: q.stream, line: q.lines.shift() as Buffer });
    }
    const lines = parts.map(({ line }) => ({ bytes: line, cut: false }));
    const records = decodeChecked('cri', lines, max);
    assert.equal(records.length, 2);
    for (const record of records) {
      const expected = expectedHead(messages[record.stream as Stream], max);
      assert.equal(record.error, undefined, `round ${round}`);
      assert.equal(record.truncated, expected.truncated, `round ${round}`);
      assert.ok(record.message === expected.message, `round ${round}: ${record.stream} differs`);
    }
    // The first record to finish waits, in its resume, for the other one's first part.
    const first = records[0] as LogRecord, second = records[1] as LogRecord;
    assert.equal(first.resume, Math.min(second.offset, first.resume));
  }
});

test('a random message written as docker 16 KiB chunks decodes back exactly', () => {
  const rng = new SeededRandom(123);
  for (let round = 0; round < 40; round++) {
    const max = 1024 + rng.int(128 * 1024);
    const message = randomText(rng, 100 * 1024);
    const stream = rng.pick(['stdout', 'stderr'] as const);
    // moby cuts at 16 KiB of bytes; it would mangle a character cut in two, so cut between characters.
    const bytes = Buffer.from(message + '\n');
    const lines: Line[] = [];
    for (let at = 0; at < bytes.length;) {
      let end = Math.min(bytes.length, at + 16 * 1024);
      while (end < bytes.length && ((bytes[end] as number) & 0xc0) === 0x80) end--;
      const log = bytes.toString('utf8', at, end);
      lines.push({ bytes: Buffer.from(JSON.stringify({ log, stream, time: randomTime(rng) })), cut: false });
      at = end;
    }
    const records = decodeChecked('docker', lines, max);
    const expected = expectedHead(message, max);
    assert.equal(records.length, 1);
    const record = records[0] as LogRecord;
    assert.equal(record.error, undefined);
    assert.equal(record.stream, stream);
    assert.equal(record.truncated, expected.truncated, `round ${round}`);
    assert.ok(record.message === expected.message, `round ${round}: message differs`);
    assert.deepEqual([record.offset, record.resume], [0, lines.reduce((n, line) => n + line.bytes.length + 1, 0)]);
  }
});
