import type { LogRecord } from './record.ts';

/** Records serialised in a sink's wire format, one string per record, sent together. */
export interface Batch {
  readonly items: readonly string[];
  /**
   * Sum of the string lengths of `items` (UTF-16 units: the bytes of ASCII text, fewer than the
   * UTF-8 bytes of other text). Cheap to keep per item; a sink that needs exact bytes measures its body.
   */
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
  /** Stop retrying; pending sends reject with ShutdownError. */
  close(): Promise<void>;
}
