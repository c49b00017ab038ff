import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { LogFile, LogFormat, LogRecord } from '../../../agent/core/record.ts';
import { createDecoder } from '../../../agent/decode/create-decoder.ts';
import { detectFormat } from '../../../agent/decode/detect-format.ts';

// The one table of decoder cases: test/fixtures/decode/*.json (format described in its README).

type LineSpec = string | { text?: string; hex?: string; cut?: boolean; each?: string; count?: number };
type Expected = Omit<LogRecord, 'file' | 'stream' | 'error' | 'offset' | 'resume'> & {
  offset?: number; resume?: number; stream: string | null; error: string | null;
};
interface Case {
  name: string; source?: string; note?: string; awaits?: string;
  max?: number; flush?: boolean; lines: LineSpec[]; pending: number | null; expect: Expected[];
}
interface DetectCase { name: string; path: string; line: LineSpec; format: LogFormat }

const READ_TIME = '2026-11-22T10:00:00.000Z';
const FIELD_ORDER = ['file', 'offset', 'resume', 'time', 'stream', 'message', 'truncated', 'error'];
const file: LogFile = { key: '1:2', idPrefix: 'x', path: '/p', matchedPath: '/p', source: 'pods', meta: {} };

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/decode/${name}`, import.meta.url), 'utf8')) as T;
}

function expand(text: string): string {
  return text
    .replace(/\{\{repeat:(.):(\d+)\}\}/gu, (_all, char: string, count: string) => char.repeat(Number(count)))
    .replace(/\{\{cycle:(\d+):(.+?)\}\}/gu, (_all, count: string, base: string) => base.repeat(Math.ceil(Number(count) / base.length)).slice(0, Number(count)))
    .replace(/\{\{numbers:(\d+)\}\}/gu, (_all, count: string) => Array.from({ length: Number(count) }, (_, n) => String(n)).join(''));
}

/** A line spec as the lines it stands for: `each` is written `count` times, `{{n}}` counting from 0. */
function linesOf(spec: LineSpec): LineSpec[] {
  if (typeof spec === 'string' || spec.each === undefined) return [spec];
  const each = spec.each;
  return Array.from({ length: spec.count ?? 0 }, (_, n) => each.replaceAll('{{n}}', String(n)));
}

function bytesOf(spec: LineSpec): { bytes: Buffer; cut: boolean } {
  if (typeof spec === 'string') return { bytes: Buffer.from(expand(spec)), cut: false };
  const bytes = spec.hex !== undefined ? Buffer.from(spec.hex, 'hex') : Buffer.from(expand(spec.text ?? ''));
  return { bytes, cut: spec.cut ?? false };
}

/** The records as the fixtures write them, after checking what fixtures leave out. */
function plain(records: LogRecord[]): Expected[] {
  return records.map((record) => {
    assert.equal(record.file, file);
    assert.deepEqual(Object.keys(record), FIELD_ORDER);
    return { offset: record.offset, resume: record.resume, time: record.time, stream: record.stream ?? null,
      message: record.message, truncated: record.truncated, error: record.error ?? null };
  });
}

/** Without the positions where the expected record leaves them out (cases written from other projects' tests). */
function comparable(records: Expected[], expected: Expected[]): Expected[] {
  return records.map((record, i) => {
    if (expected[i] === undefined || 'offset' in (expected[i] as Expected)) return record;
    const { offset: _offset, resume: _resume, ...rest } = record;
    return rest;
  });
}

/**
 * Feeds each line from a scratch buffer at a non-zero position, then overwrites the buffer as the
 * tailer's reused buffers are: a decoder that kept a view instead of a copy would fail here.
 */
function decodeOneByOne(format: LogFormat, c: Case): { records: Expected[]; pending: number | null } {
  const decoder = createDecoder(format, file, c.max ?? 1024);
  const records: LogRecord[] = [];
  const emit = (record: LogRecord): void => { records.push(record); };
  let position = 0;
  for (const spec of c.lines.flatMap(linesOf)) {
    const { bytes, cut } = bytesOf(spec);
    const scratch = Buffer.alloc(bytes.length + 10, 0x20);
    bytes.copy(scratch, 3);
    decoder.line(scratch, 3, 3 + bytes.length, position, position + bytes.length + 1, cut, READ_TIME, emit);
    scratch.fill(0x41);
    position += bytes.length + 1;
  }
  const pending = decoder.pending() ?? null;
  if (c.flush === true) decoder.flush(READ_TIME, emit);
  return { records: plain(records), pending };
}

/** Feeds the lines the way the tailer reads a file: all from one buffer holding the file. */
function decodeFromOneBuffer(format: LogFormat, c: Case): Expected[] {
  const decoder = createDecoder(format, file, c.max ?? 1024);
  const records: LogRecord[] = [];
  const emit = (record: LogRecord): void => { records.push(record); };
  const lines = c.lines.flatMap(linesOf).map(bytesOf);
  const whole = Buffer.concat(lines.flatMap(({ bytes }) => [bytes, Buffer.from('\n')]));
  let position = 0;
  for (const { bytes, cut } of lines) {
    decoder.line(whole, position, position + bytes.length, position, position + bytes.length + 1, cut, READ_TIME, emit);
    position += bytes.length + 1;
  }
  if (c.flush === true) decoder.flush(READ_TIME, emit);
  return plain(records);
}

const SOURCE = /^[\w.-]+\/[\w.-]+:[\w./{},-]+$/u;

function checkCase(format: LogFormat, c: Case): void {
  const expected = c.expect.map((record) => ({ ...record, message: expand(record.message) }));
  const { records, pending } = decodeOneByOne(format, c);
  assert.deepEqual(comparable(records, expected), expected);
  assert.equal(pending, c.pending);
  assert.deepEqual(comparable(decodeFromOneBuffer(format, c), expected), expected);
}

for (const format of ['cri', 'docker', 'plain'] as const) {
  for (const c of fixture<Case[]>(`${format}.json`)) {
    test(`${format}: ${c.name}`, () => { checkCase(format, c); });
  }
}

// Cases transcribed from the decoder tests of the runtimes and of other agents, each naming its source.
for (const format of ['cri', 'docker'] as const) {
  for (const c of fixture<Case[]>(`upstream-${format}.json`)) {
    test(`${format} (${c.source ?? '?'}): ${c.name}`, () => {
      assert.match(c.source ?? '', SOURCE, 'an upstream case names its source as repo:path');
      if (c.awaits !== undefined) {
        // Its last record comes only from flush(), whoever calls it: the decoder must hold it until then.
        assert.equal(c.flush, true, 'a case awaiting a flush flushes');
        assert.notEqual(c.pending, null, 'a case awaiting a flush has a part pending before it');
      }
      checkCase(format, c);
    });
  }
}

for (const c of fixture<DetectCase[]>('detect.json')) {
  test(`detectFormat: ${c.name}`, () => {
    const { bytes } = bytesOf(c.line);
    const padded = Buffer.concat([Buffer.from('xx'), bytes, Buffer.from('\nyy')]);
    assert.equal(detectFormat(c.path, padded, 2, 2 + bytes.length), c.format);
  });
}

test('createDecoder gives each format its decoder, and a usable one for a nonsensical size', () => {
  const line = Buffer.from('2024-01-01T12:00:00Z stdout F héllo');
  const records: LogRecord[] = [];
  createDecoder('cri', file, Number.NaN).line(line, 0, line.length, 0, line.length + 1, false, READ_TIME, (r) => { records.push(r); });
  createDecoder('cri', file, 0).line(line, 0, line.length, 0, line.length + 1, false, READ_TIME, (r) => { records.push(r); });
  createDecoder('plain', file, 6.5).line(line, 30, line.length, 0, line.length + 1, false, READ_TIME, (r) => { records.push(r); });
  assert.deepEqual(records.map((r) => [r.message, r.truncated]), [['hél', true], ['hél', true], ['héllo', false]]);
});
