import { open, type FileHandle } from 'node:fs/promises';
import { ShutdownError } from '../../core/errors.ts';
import type { ServerError } from './classify-bulk-response.ts';

/** One rejected record, as written to the dead-letter file (one JSON line). */
export interface DeadLetter {
  readonly status: number;
  readonly error: ServerError;
  readonly index: string;
  /** The document line as it was sent. */
  readonly document: string;
}

/**
 * `<state_dir>/dead-letters.ndjson`: records Elasticsearch refused for good, each with the
 * reason, so an operator can fix the mapping and replay them. Bounded: past `maxBytes`
 * records are only counted (the caller's metric), never written, so a mapping conflict on a
 * busy pod cannot fill the node's disk. Writes are appended in order, one at a time.
 */
export class DeadLetterFile {
  readonly #path: string;
  readonly #maxBytes: number;
  #handle: Promise<FileHandle> | undefined;
  #size = -1;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(path: string, maxBytes: number) {
    this.#path = path;
    this.#maxBytes = maxBytes;
  }

  get path(): string {
    return this.#path;
  }

  /** Appends what fits; resolves with how many were written. Rejects on I/O errors (the caller counts and logs). */
  write(letters: readonly DeadLetter[], now: Date = new Date()): Promise<number> {
    const run = this.#queue.then(() => this.#append(letters, now));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle !== undefined) await (await handle.catch(() => undefined))?.close();
  }

  async #append(letters: readonly DeadLetter[], now: Date): Promise<number> {
    if (this.#closed) throw new ShutdownError();
    if (this.#maxBytes <= 0 || letters.length === 0) return 0;
    if (this.#handle === undefined) {
      const opening = open(this.#path, 'a', 0o640);
      this.#handle = opening;
      opening.catch(() => {
        if (this.#handle === opening) this.#handle = undefined;
      });
    }
    const handle = await this.#handle;
    if (this.#size < 0) this.#size = (await handle.stat()).size;
    const time = now.toISOString();
    let text = '';
    let written = 0;
    for (const l of letters) {
      const line = `${JSON.stringify({ time, status: l.status, error: { type: l.error.type, reason: l.error.reason }, index: l.index, document: parseOrRaw(l.document) })}\n`;
      const size = Buffer.byteLength(line);
      if (this.#size + size > this.#maxBytes) break;
      this.#size += size;
      text += line;
      written++;
    }
    if (text !== '') await handle.appendFile(text);
    return written;
  }
}

/** The document as JSON when it is JSON (readable, replayable), else the line as sent. */
function parseOrRaw(document: string): unknown {
  try {
    return JSON.parse(document);
  } catch {
    return document;
  }
}
