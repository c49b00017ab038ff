import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { LogFile, LogFormat, LogRecord } from '../../../agent/core/record.ts';
import { createDecoder } from '../../../agent/decode/create-decoder.ts';

// An over-long record streaming in (a container printing 100 MiB without a newline) must cost the
// decoder about the maximum record size, not the record's size.

const READ_TIME = '2026-11-22T10:00:00.000Z';
const file: LogFile = { key: '1:2', idPrefix: 'x', path: '/p', matchedPath: '/p', source: 'pods', meta: {} };
const MAX = 16 * 1024;
const PARTS = 1600;

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/**
 * Bytes still held after garbage collection. Collected twice: V8 gives back the memory of what a
 * full collection found dead (array buffers' memory among it) on background threads, which a
 * busy machine may not have run yet when gc() returns; the next collection first waits for that
 * work. One collection alone failed under CPU load (200 decoders "holding" 3.9 MB).
 */
function retained(): number {
  collect();
  collect();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function streamOverLongRecord(format: LogFormat, partLine: Buffer, lastLine: Buffer): { grew: number; records: LogRecord[] } {
  const decoder = createDecoder(format, file, MAX);
  const records: LogRecord[] = [];
  const emit = (record: LogRecord): void => { records.push(record); };
  const before = retained();
  let at = 0;
  for (let i = 0; i < PARTS; i++) {
    decoder.line(partLine, 0, partLine.length, at, at + partLine.length + 1, false, READ_TIME, emit);
    at += partLine.length + 1;
  }
  const grew = retained() - before;
  decoder.line(lastLine, 0, lastLine.length, at, at + lastLine.length + 1, false, READ_TIME, emit);
  return { grew, records };
}

test('CRI: 100 MiB of P parts keep about the maximum record size in memory', () => {
  const part = Buffer.from(`2024-01-01T12:00:00Z stdout P ${'é'.repeat(32 * 1024)}`); // 64 KiB of message
  const { grew, records } = streamOverLongRecord('cri', part, Buffer.from('2024-01-01T12:00:00Z stdout F end'));
  assert.ok(grew < 8 * 1024 * 1024, `grew by ${grew} bytes`);
  assert.equal(records.length, 1);
  assert.deepEqual([records[0]?.message, records[0]?.truncated], ['é'.repeat(MAX / 2), true]);
});

test('docker: 100 MiB of 16 KiB chunks keep about the maximum record size in memory', () => {
  const chunk = Buffer.from(JSON.stringify({ log: 'x'.repeat(64 * 1024), stream: 'stderr', time: '2024-01-01T12:00:00Z' }));
  const last = Buffer.from(JSON.stringify({ log: 'end\n', stream: 'stderr', time: '2024-01-01T12:00:01Z' }));
  const { grew, records } = streamOverLongRecord('docker', chunk, last);
  assert.ok(grew < 8 * 1024 * 1024, `grew by ${grew} bytes`);
  assert.equal(records.length, 1);
  assert.deepEqual([records[0]?.message, records[0]?.truncated], ['x'.repeat(MAX), true]);
});

// Every followed file has a decoder for as long as it is followed (thousands on a node): once a
// record is emitted, the decoder must not keep its message (up to max_record_bytes) alive.
test('a decoder keeps no message once it has emitted it, in every format', () => {
  const DECODERS = 200;
  const text = 'y'.repeat(40 * 1024);
  const cases: Array<{ format: LogFormat; lines: string[] }> = [
    { format: 'cri', lines: [`2024-01-01T12:00:00Z stdout F ${text}`] },
    { format: 'cri', lines: [`2024-01-01T12:00:00Z stderr P ${text}`, `2024-01-01T12:00:00Z stderr F ${text}`] },
    { format: 'docker', lines: [JSON.stringify({ log: `${text}\n`, stream: 'stdout', time: '2024-01-01T12:00:00Z' })] },
    { format: 'docker', lines: [JSON.stringify({ log: text, stream: 'stderr', time: '2024-01-01T12:00:00Z' }), JSON.stringify({ log: `${text}\n`, stream: 'stderr', time: '2024-01-01T12:00:00Z' })] },
    { format: 'plain', lines: [text] },
  ];
  for (const { format, lines } of cases) {
    const decoders = [];
    let emitted = 0;
    let bytes = 0;
    const emit = (record: LogRecord): void => { emitted++; bytes += record.message.length; };
    const before = retained();
    for (let d = 0; d < DECODERS; d++) {
      const decoder = createDecoder(format, file, 256 * 1024);
      let at = 0;
      for (const line of lines) {
        const buf = Buffer.from(line);
        decoder.line(buf, 0, buf.length, at, at + buf.length + 1, false, READ_TIME, emit);
        at += buf.length + 1;
      }
      decoders.push(decoder);
    }
    const grew = retained() - before;
    assert.equal(emitted, DECODERS, format);
    assert.equal(bytes, DECODERS * text.length * (lines.length === 1 ? 1 : 2), format);
    // Without letting go: DECODERS x 40-80 KiB, 8-16 MB.
    assert.ok(grew < 3 * 1024 * 1024, `${format} (${lines.length} lines): ${DECODERS} decoders hold ${grew} bytes`);
    assert.equal(decoders.length, DECODERS);
  }
});
