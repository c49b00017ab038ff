import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogFile, LogRecord } from '../../../agent/core/record.ts';
import { createDecoder } from '../../../agent/decode/create-decoder.ts';

const file: LogFile = { key: '1:2', idPrefix: 'x', path: '/p', matchedPath: '/p', source: 'pods', meta: {} };

/** Seeded PRNG (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lines of both streams, records split into random partials, interleaved at random. */
function interleaved(format: 'cri' | 'docker', next: () => number): Buffer {
  const streams = { stdout: [] as string[], stderr: [] as string[] };
  for (const stream of ['stdout', 'stderr'] as const) {
    for (let r = 0; r < 6; r++) {
      const parts = 1 + Math.floor(next() * 3);
      for (let p = 0; p < parts; p++) {
        const last = p === parts - 1;
        const text = `${stream[3]}${r}.${p}`;
        streams[stream].push(format === 'cri'
          ? `2024-01-01T12:00:00.1Z ${stream} ${last ? 'F' : 'P'} ${text}`
          : JSON.stringify({ log: last ? `${text}\n` : text, stream, time: '2024-01-01T12:00:00.1Z' }));
      }
    }
  }
  const lines: string[] = [];
  while (streams.stdout.length + streams.stderr.length > 0) {
    const from = streams.stderr.length === 0 || (streams.stdout.length > 0 && next() < 0.5) ? streams.stdout : streams.stderr;
    lines.push(from.shift() as string);
  }
  return Buffer.from(lines.join('\n') + '\n');
}

function decode(format: 'cri' | 'docker', bytes: Buffer, from: number): LogRecord[] {
  const decoder = createDecoder(format, file, 1 << 20);
  const out: LogRecord[] = [];
  let start = from;
  for (let nl = bytes.indexOf(10, start); nl >= 0; nl = bytes.indexOf(10, start)) {
    decoder.line(bytes, start, nl, start, nl + 1, false, 'T', (r) => out.push(r));
    start = nl + 1;
  }
  return out;
}

for (const format of ['cri', 'docker'] as const) {
  test(`${format}: a restart at any record's resume re-reads whole records only: no fragment under a new offset, nothing skipped`, () => {
    const next = random(format === 'cri' ? 7 : 11);
    for (let round = 0; round < 300; round++) {
      const bytes = interleaved(format, next);
      const first = decode(format, bytes, 0);
      const known = new Map(first.map((r) => [r.offset, r.message]));
      assert.equal(first.length, 12);
      for (const [i, record] of first.entries()) {
        const again = decode(format, bytes, record.resume);
        for (const r of again) assert.equal(known.get(r.offset), r.message, `round ${round}: resuming at ${record.resume} gave a record at ${r.offset} that the first pass did not have`);
        // Nothing after this record is skipped: every later record comes again.
        for (const later of first.slice(i + 1)) assert.ok(again.some((r) => r.offset === later.offset), `round ${round}: resuming at ${record.resume} skipped the record at ${later.offset}`);
      }
    }
  });
}
