import type { Writable } from 'node:stream';
import { ShutdownError } from '../core/errors.ts';
import type { OutputObserver } from '../core/observer.ts';
import type { Batch, Sink } from '../core/sink.ts';
import type { LogRecord } from '../core/record.ts';

/**
 * The embedded default output when no Elasticsearch URL is set: one JSON document per line.
 * A batch is acknowledged once its write is flushed to the stream (so a slow reader of stdout
 * slows the agent down instead of filling its memory).
 */
export function createStdoutSink(out: Writable, encodeDocument: (record: LogRecord) => string, observer: OutputObserver): Sink {
  let closed = false;
  return {
    name: 'stdout',
    async start() {},
    encode: (record) => encodeDocument(record) + '\n',
    send(batch: Batch) {
      if (closed) return Promise.reject(new ShutdownError());
      const started = performance.now();
      return new Promise<void>((resolve, reject) => {
        out.write(batch.body, (err) => {
          if (err) {
            reject(closed ? new ShutdownError() : err);
            return;
          }
          observer.request((performance.now() - started) / 1000, 'ok');
          observer.recordsDelivered(batch.ends.length, batch.bytes);
          resolve();
        });
      });
    },
    ready: () => !closed,
    async close() {
      closed = true;
    },
  };
}
