import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Batcher, type BatchSegment, type BatcherOptions, type ClosedBatch } from '../../../agent/batch/batcher.ts';
import { AckTracker } from '../../../agent/checkpoint/ack-tracker.ts';
import type { LogFile, LogRecord } from '../../../agent/core/record.ts';

/** Adds records one by one, as the pipeline does while a chunk is decoded; returns their bytes. */
function addAll<F>(b: Batcher<F>, file: F, tracker: AckTracker, records: readonly LogRecord[]): number {
  let bytes = 0;
  for (const record of records) bytes += b.add(file, tracker, record);
  return bytes;
}

const FILE: LogFile = { key: '1:2', idPrefix: 'p', path: '/x.log', matchedPath: '/x.log', source: 'host', meta: {} };

function record(offset: number, resume: number, message: string, time = `2026-11-22T10:00:${String(offset % 60).padStart(2, '0')}.000Z`): LogRecord {
  return { file: FILE, offset, resume, time, stream: undefined, message, truncated: false, error: undefined };
}

/** Records of `length`-byte messages laid end to end from `from`. */
function records(from: number, count: number, length = 4): LogRecord[] {
  return Array.from({ length: count }, (_, i) => record(from + i * (length + 1), from + (i + 1) * (length + 1), String(i).padStart(length, '0')));
}

function batcher(options: Partial<BatcherOptions<string>> = {}): { b: Batcher<string>; batches: ClosedBatch<string>[] } {
  const batches: ClosedBatch<string>[] = [];
  const b = new Batcher<string>({
    maxRecords: 1000,
    maxBytes: 1_000_000,
    maxDelayMs: 60_000,
    encode: (r) => r.message,
    onBatch: (batch) => void batches.push(batch),
    ...options,
  });
  return { b, batches };
}

/** The batch's items, read back from its body at its item ends. */
function itemsOf(batch: ClosedBatch<string> | undefined): string[] {
  if (batch === undefined) return [];
  return Array.from(batch.ends, (end, i) => batch.body.toString('utf8', batch.ends[i - 1] ?? 0, end));
}

/** Waits (bounded) until `batches` holds `n` batches. */
async function waitFor(batches: readonly unknown[], n: number, deadlineMs = 2000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (batches.length < n) {
    if (Date.now() > until) throw new Error(`${batches.length} batches after ${deadlineMs} ms, expected ${n}`);
    await sleep(5);
  }
}

test('a batch closes at maxRecords, at once; the rest waits for the next close', () => {
  const { b, batches } = batcher({ maxRecords: 3 });
  const tracker = new AckTracker(0);
  const recs = records(0, 5);
  assert.equal(addAll(b, 'a', tracker, recs), 20);
  assert.equal(batches.length, 1);
  const first = batches[0] as ClosedBatch<string>;
  assert.deepEqual(itemsOf(first), ['0000', '0001', '0002']);
  assert.equal(first.bytes, 12);
  assert.equal(first.records, 3);
  assert.equal(first.lastTime, recs[2]?.time);
  assert.equal(first.segments.length, 1);
  assert.equal(first.segments[0]?.file, 'a');
  assert.equal(first.segments[0]?.tracker, tracker);
  assert.equal(first.segments[0]?.segment.resume, 15);
  b.flush();
  assert.equal(batches.length, 2);
  const second = batches[1] as ClosedBatch<string>;
  assert.deepEqual(itemsOf(second), ['0003', '0004']);
  assert.equal(second.records, 2);
  assert.equal(second.lastTime, recs[4]?.time);
  assert.equal(second.segments[0]?.segment.resume, 25);
  assert.notEqual(second.segments[0]?.segment, first.segments[0]?.segment);
  assert.equal(tracker.inFlight(), 2);
  // Acknowledged out of order, the offset waits for the first batch.
  tracker.ack((second.segments[0] as BatchSegment<string>).segment);
  assert.equal(tracker.acked, 0);
  tracker.ack((first.segments[0] as BatchSegment<string>).segment);
  assert.equal(tracker.acked, 25);
});

test('a batch closes once its items reach maxBytes', () => {
  const { b, batches } = batcher({ maxBytes: 10 });
  const tracker = new AckTracker(0);
  addAll(b, 'a', tracker, records(0, 2)); // 8 bytes
  assert.equal(batches.length, 0);
  addAll(b, 'a', tracker, records(10, 1, 2)); // 10 bytes
  assert.equal(batches.length, 1);
  assert.deepEqual(itemsOf(batches[0]), ['0000', '0001', '00']);
  assert.equal(batches[0]?.bytes, 10);
  assert.equal(batches[0]?.segments[0]?.segment.resume, 13);
});

test('a batch closes after maxDelayMs, timed from its first add, and not before', async () => {
  const { b, batches } = batcher({ maxDelayMs: 40 });
  const tracker = new AckTracker(100);
  const before = Date.now();
  addAll(b, 'a', tracker, [record(100, 110, 'one')]);
  const afterFirst = Date.now();
  await sleep(10);
  addAll(b, 'a', tracker, [record(110, 120, 'two')]);
  assert.equal(batches.length, 0);
  await waitFor(batches, 1);
  const waited = Date.now() - before;
  assert.ok(waited >= 39, `closed after ${waited} ms`);
  assert.deepEqual(itemsOf(batches[0]), ['one', 'two']);
  assert.equal(batches[0]?.segments[0]?.segment.resume, 120);
  const openedAt = batches[0]?.openedAt ?? 0;
  // Bracketed by the clock read around the first add, whatever the machine's load; the second add
  // comes after the sleep, so a batch timed from it would fail this.
  assert.ok(openedAt >= before && openedAt <= afterFirst, `openedAt ${openedAt - before} ms after the first add began`);
});

test('each file of a batch gets one segment that ends at its last record, acknowledged through its own tracker', () => {
  const { b, batches } = batcher();
  const ta = new AckTracker(0);
  const tb = new AckTracker(500);
  addAll(b, 'a', ta, [record(0, 10, 'a1')]);
  addAll(b, 'b', tb, [record(500, 520, 'b1')]);
  addAll(b, 'a', ta, [record(10, 30, 'a2'), record(30, 45, 'a3')]);
  b.flush();
  assert.equal(batches.length, 1);
  const batch = batches[0] as ClosedBatch<string>;
  assert.deepEqual(itemsOf(batch), ['a1', 'b1', 'a2', 'a3']);
  assert.deepEqual(batch.segments.map((s) => [s.file, s.segment.resume]), [['a', 45], ['b', 520]]);
  assert.equal(ta.inFlight(), 1);
  assert.equal(tb.inFlight(), 1);
  for (const s of batch.segments) s.tracker.ack(s.segment);
  assert.equal(ta.acked, 45);
  assert.equal(tb.acked, 520);
});

test('a file whose tracker is swapped mid-batch (truncation) keeps the old and the new segment apart', () => {
  const { b, batches } = batcher();
  const before = new AckTracker(0);
  addAll(b, 'a', before, [record(0, 50, 'old1'), record(50, 90, 'old2')]);
  const after = new AckTracker(0); // the file was truncated: read again from 0
  addAll(b, 'a', after, [record(0, 7, 'new1')]);
  b.flush();
  const batch = batches[0] as ClosedBatch<string>;
  assert.equal(batch.segments.length, 2);
  assert.deepEqual(batch.segments.map((s) => [s.file, s.tracker === before, s.segment.resume]), [['a', true, 90], ['a', false, 7]]);
  for (const s of batch.segments) s.tracker.ack(s.segment);
  assert.equal(before.acked, 90);
  assert.equal(after.acked, 7);
});

test('excluded records (encode gives undefined) are not items but still count and move the segment', () => {
  const { b, batches } = batcher({ encode: (r) => (r.message.startsWith('x') ? undefined : r.message) });
  const tracker = new AckTracker(0);
  assert.equal(addAll(b, 'a', tracker, [record(0, 5, 'keep'), record(5, 9, 'xout'), record(9, 14, 'xout')]), 4);
  b.flush();
  assert.deepEqual(itemsOf(batches[0]), ['keep']);
  assert.equal(batches[0]?.bytes, 4);
  assert.equal(batches[0]?.records, 3);
  assert.equal(batches[0]?.segments[0]?.segment.resume, 14);

  // A batch of excluded records only: no items, but a segment to acknowledge.
  assert.equal(addAll(b, 'a', tracker, [record(14, 20, 'xout')]), 0);
  b.flush();
  assert.deepEqual(itemsOf(batches[1]), []);
  assert.equal(batches[1]?.records, 1);
  assert.equal(batches[1]?.segments[0]?.segment.resume, 20);
});

test('flush() of an empty batch does nothing', async () => {
  const { b, batches } = batcher({ maxDelayMs: 10 });
  b.flush();
  b.flush();
  await sleep(30);
  assert.equal(batches.length, 0);
});

test('a batch flushed before its delay is sent once: the timer is cleared', async () => {
  const { b, batches } = batcher({ maxDelayMs: 20 });
  addAll(b, 'a', new AckTracker(0), [record(0, 3, 'ab')]);
  b.flush();
  await sleep(60);
  assert.equal(batches.length, 1);
});

test('a batch closed by count at the last record of an add leaves no empty batch behind', async () => {
  const { b, batches } = batcher({ maxRecords: 2, maxDelayMs: 10 });
  const tracker = new AckTracker(0);
  addAll(b, 'a', tracker, records(0, 2));
  assert.equal(batches.length, 1);
  await sleep(40);
  assert.equal(batches.length, 1);
  assert.equal(tracker.inFlight(), 1);
});

test('batch bytes are the items\' UTF-8 bytes, exactly the body the sink sends', () => {
  const { b, batches } = batcher();
  const items = ['é', '日本', '🙂'];
  const tracker = new AckTracker(0);
  const added = addAll(b, 'a', tracker, items.map((m, i) => record(i * 10, i * 10 + 10, m)));
  b.flush();
  assert.equal(batches[0]?.bytes, 2 + 6 + 4);
  assert.equal(added, 12);
  assert.deepEqual(batches[0]?.ends, Uint32Array.of(2, 8, 12));
  assert.equal(batches[0]?.body.toString('utf8'), 'é日本🙂');
  assert.deepEqual(itemsOf(batches[0]), items);
});

test('filled(share) says when the open batch holds that share of its record or byte limit', () => {
  const { b, batches } = batcher({ maxRecords: 8, maxBytes: 100 });
  const tracker = new AckTracker(0);
  assert.equal(b.filled(0.25), false);
  addAll(b, 'a', tracker, records(0, 1));
  assert.equal(b.filled(0.25), false); // 1 of 8 records, 4 of 100 bytes
  addAll(b, 'a', tracker, records(5, 1));
  assert.equal(b.filled(0.25), true); // 2 of 8 records
  b.flush();
  assert.equal(b.filled(0.25), false);
  addAll(b, 'a', tracker, records(10, 1, 30));
  assert.equal(b.filled(0.25), true); // 30 of 100 bytes
  assert.equal(batches.length, 1);
  b.flush();
});
