import type { LogRecord } from './record.ts';

/**
 * Records serialised in a sink's wire format and written once, one after another, into one
 * buffer: the batch is the request body (each record is serialised once, straight into the
 * bulk body: copying records is the hot path's largest avoidable cost). Item i is `body[ends[i - 1] ?? 0, ends[i])`; a sink that re-sends some items
 * or splits a batch takes views of `body`, never re-encodes.
 */
export interface Batch {
  /** Every item, UTF-8, in order. Owned by the batcher again once `send` resolved: keep no view of it. */
  readonly body: Buffer;
  /** Where each item ends in `body`, ascending; its length is the number of items. */
  readonly ends: Uint32Array;
  /** `body.length`: the exact bytes, as the memory budget counts them. */
  readonly bytes: number;
}

/**
 * Where records go. `send` resolves only once every item is stored or set aside with a counted
 * reason (dead letters); it retries transient failures itself. It rejects only with
 * `ShutdownError` when `close` stops it first: then nothing of the batch may be acknowledged.
 */
export interface Sink {
  readonly name: string;
  /** Prepare (detect the server, install templates...). Must not throw for an unreachable server. */
  start(): Promise<void>;
  /** Serialise one record, once, into this sink's item format. */
  encode(record: LogRecord): string;
  send(batch: Batch): Promise<void>;
  /** True while the sink can deliver (for /readyz). */
  ready(): boolean;
  /** While not ready for a reason an operator must act on, that reason (for /readyz), else undefined. */
  problem?(): string | undefined;
  /** Stop retrying; pending sends reject with ShutdownError. */
  close(): Promise<void>;
}
