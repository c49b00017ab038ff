import type { Writable } from 'node:stream';
import { ShutdownError } from '../core/errors.ts';
import type { OutputObserver } from '../core/observer.ts';
import type { Batch, Sink } from '../core/sink.ts';
import type { LogRecord } from '../core/record.ts';

/**
 * The embedded default output when no Elasticsearch URL is set: one JSON document per line.
 * A batch is acknowledged once its write is flushed to the stream (so a slow reader of stdout
 * slows the agent down instead of filling its memory).
 *
 * A reader that goes away (`| head`, a closed `| jq`) makes the next write fail with EPIPE: the
 * sink then closes, acknowledges nothing more (so offsets stop at the last batch written) and
 * calls `onClosed` once, for the agent to stop as on SIGTERM instead of dying on the error.
 */
export function createStdoutSink(out: Writable, encodeDocument: (record: LogRecord) => string, observer: OutputObserver, onClosed: () => void = () => {}): Sink {
  let closed = false;
  let readerGone = false;
  const goneAway = () => {
    if (readerGone) return;
    readerGone = true;
    closed = true;
    onClosed();
  };
  // Without a listener an EPIPE is an uncaught exception: a stack trace and unsaved offsets.
  out.on('error', goneAway);
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
            // Any failed write means the reader is gone (EPIPE, or the stream already destroyed by it).
            goneAway();
            reject(new ShutdownError());
            return;
          }
          observer.request((performance.now() - started) / 1000, 'ok');
          observer.recordsDelivered(batch.ends.length, batch.bytes);
          resolve();
        });
      });
    },
    ready: () => !closed,
    problem: () => (readerGone ? 'the reader of stdout has gone away' : undefined),
    async close() {
      closed = true;
    },
  };
}
