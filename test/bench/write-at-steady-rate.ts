import { closeSync, openSync, writeSync } from 'node:fs';
import { LogLineGenerator } from './log-line-generator.ts';

/**
 * Appends records to files an agent is following, at a steady rate, the way a busy node
 * writes: every 10 ms the records due since the start are written, spread round-robin over
 * the files. Each record's CRI timestamp and its `wt=<epoch ms>` token are the write time,
 * so the endpoint can measure write-to-arrival delay.
 */

export interface SteadyWriteOptions {
  readonly paths: readonly string[];
  readonly linesPerSecond: number;
  readonly durationMs: number;
  /** The first `seq`; the phase's records are `[seqBase, seqBase + written)`. */
  readonly seqBase: number;
  readonly seed: number;
  readonly signal: AbortSignal;
}

export interface SteadyWriteResult {
  readonly records: number;
  readonly physicalLines: number;
  readonly bytes: number;
}

const TICK_MS = 10;

export async function writeAtSteadyRate(options: SteadyWriteOptions): Promise<SteadyWriteResult> {
  const generator = new LogLineGenerator(options.seed);
  const fds = options.paths.map((path) => openSync(path, 'a'));
  const pending: string[][] = fds.map(() => []);
  let records = 0;
  let physicalLines = 0;
  let bytes = 0;
  let next = 0;
  const t0 = Date.now();

  const tick = (): boolean => {
    const now = Date.now();
    const elapsed = Math.min(now - t0, options.durationMs);
    const due = Math.floor((elapsed * options.linesPerSecond) / 1000) - records;
    const timestamp = generator.timestamp(Math.floor(now / 1000), (now % 1000) * 1_000_000);
    for (let i = 0; i < due; i++) {
      const record = generator.record(options.seqBase + records, timestamp, `wt=${now}`);
      records++;
      physicalLines += record.physicalLines;
      (pending[next] as string[]).push(record.text);
      next = (next + 1) % fds.length;
    }
    for (let f = 0; f < fds.length; f++) {
      const parts = pending[f] as string[];
      if (parts.length === 0) continue;
      bytes += writeSync(fds[f] as number, parts.join(''));
      parts.length = 0;
    }
    return elapsed >= options.durationMs;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          if (options.signal.aborted) throw options.signal.reason;
          if (tick()) {
            clearInterval(timer);
            resolve();
          }
        } catch (error) {
          clearInterval(timer);
          reject(error);
        }
      }, TICK_MS);
      // Not unref()ed: this phase is what the benchmark is waiting for; it is always cleared.
    });
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  return { records, physicalLines, bytes };
}
