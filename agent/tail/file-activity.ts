import type { Log } from '../core/log.ts';

/** Paths named in one summary line, at most, per kind: enough for a small node, never a flood. */
const EXAMPLES = 5;

/**
 * Files started and finished, said at info level as Fluent Bit does, but as one line per rescan
 * with changes: on a node with thousands of files a line per file would drown the self-log, and
 * a summary with a few of the paths still answers "is it reading my pod's file?". Each file's own
 * line stays at debug level.
 */
export class FileActivity {
  readonly #log: Log;
  #started: string[] = [];
  #finished: string[] = [];
  #startedCount = 0;
  #finishedCount = 0;

  constructor(log: Log) {
    this.#log = log;
  }

  started(path: string): void {
    if (++this.#startedCount <= EXAMPLES) this.#started.push(path);
  }

  finished(path: string): void {
    if (++this.#finishedCount <= EXAMPLES) this.#finished.push(path);
  }

  /** One info line for what changed since the last report, if anything did. */
  report(): void {
    if (this.#startedCount === 0 && this.#finishedCount === 0) return;
    this.#log.info(
      { started: this.#startedCount, finished: this.#finishedCount, startedPaths: this.#started, finishedPaths: this.#finished },
      `files: ${this.#startedCount} started, ${this.#finishedCount} finished`,
    );
    this.#started = [];
    this.#finished = [];
    this.#startedCount = 0;
    this.#finishedCount = 0;
  }
}
