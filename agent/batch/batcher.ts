import type { AckTracker, Segment } from '../checkpoint/ack-tracker.ts';
import type { Batch } from '../core/sink.ts';
import type { LogRecord } from '../core/record.ts';
import { BodyBuilder } from './body-builder.ts';

/** The part of a batch that came from one file: acknowledged through its tracker. */
export interface BatchSegment<F> {
  readonly file: F;
  readonly tracker: AckTracker;
  readonly segment: Segment;
}

/** A closed batch and what acknowledging it acknowledges. */
export interface ClosedBatch<F> extends Batch {
  readonly segments: readonly BatchSegment<F>[];
  /** The newest record's timestamp, for the end-to-end delay. */
  readonly lastTime: string | undefined;
  readonly records: number;
  readonly openedAt: number;
}

export interface BatcherOptions<F> {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly maxDelayMs: number;
  /** Serialises a record in the sink's item format; undefined drops it (an excluded pod). */
  readonly encode: (record: LogRecord) => string | undefined;
  readonly onBatch: (batch: ClosedBatch<F>) => void;
}

/**
 * Groups encoded records into batches that close on a count, a size or an age. Each record is
 * serialised exactly once, here, straight into the sink's format and from there into the
 * request body (`BodyBuilder`). A batch remembers, per file, the offset to resume from once it
 * is acknowledged; `recycle` gives its body's buffer back once it is.
 */
export class Batcher<F> {
  readonly #o: BatcherOptions<F>;
  readonly #body: BodyBuilder;
  #records = 0;
  // By tracker, not by file: a file truncated mid-batch starts a new tracker, and its old
  // segment must still be acknowledged through the old one.
  #segments = new Map<AckTracker, BatchSegment<F>>();
  #last: BatchSegment<F> | undefined;
  #lastTime: string | undefined;
  #openedAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: BatcherOptions<F>) {
    this.#o = options;
    this.#body = new BodyBuilder(options.maxBytes);
  }

  /** Adds one record of a file; returns the UTF-8 bytes of its item (0: the encoder dropped it). */
  add(file: F, tracker: AckTracker, record: LogRecord): number {
    const body = this.#body;
    const part = this.#segmentFor(file, tracker);
    const item = this.#o.encode(record);
    const added = item === undefined ? 0 : body.write(item);
    this.#records++;
    part.segment.resume = record.resume;
    this.#lastTime = record.time;
    if (body.items >= this.#o.maxRecords || body.bytes >= this.#o.maxBytes) {
      this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#o.maxDelayMs);
      this.#timer.unref();
    }
    return added;
  }

  /** Closes the current batch, if it holds anything. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#segments.size === 0) return;
    const { body, ends } = this.#body.take();
    const batch: ClosedBatch<F> = {
      body,
      ends,
      bytes: body.length,
      segments: [...this.#segments.values()],
      lastTime: this.#lastTime,
      records: this.#records,
      openedAt: this.#openedAt,
    };
    this.#records = 0;
    this.#segments = new Map();
    this.#last = undefined;
    this.#lastTime = undefined;
    this.#o.onBatch(batch);
  }

  /** True when the open batch holds at least `share` of its record or byte limit. */
  filled(share: number): boolean {
    return this.#body.items >= this.#o.maxRecords * share || this.#body.bytes >= this.#o.maxBytes * share;
  }

  /** The batch is acknowledged (its `send` resolved): its body's buffer may be written again. */
  recycle(batch: ClosedBatch<F>): void {
    this.#body.recycle(batch.body);
  }

  #segmentFor(file: F, tracker: AckTracker): BatchSegment<F> {
    const last = this.#last;
    if (last !== undefined && last.file === file && last.tracker === tracker) return last;
    let part = this.#segments.get(tracker);
    if (part === undefined) {
      if (this.#segments.size === 0) this.#openedAt = Date.now();
      part = { file, tracker, segment: tracker.open(tracker.acked) };
      this.#segments.set(tracker, part);
    }
    this.#last = part;
    return part;
  }
}
