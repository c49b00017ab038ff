import { stat } from 'node:fs/promises';
import type { Checkpoint } from './checkpoint-store.ts';

/** What the checkpoints of the last run say about this start. */
export interface ResumeSummary {
  /** Files with a checkpoint. */
  readonly files: number;
  /** Of them, files still at their path whose checkpoint is their end: nothing new to read. */
  readonly atEnd: number;
  /** Of them, files no longer at their path (rotated or removed meanwhile; found again by identity if they still exist). */
  readonly moved: number;
}

/**
 * Compares each checkpoint with the file at its path, by inode (the key is `<dev>:<ino>`) and
 * size. Start-up only: one stat per checkpointed file.
 */
export async function summarizeResume(entries: Iterable<readonly [string, Checkpoint]>): Promise<ResumeSummary> {
  const checks = [...entries].map(async ([key, checkpoint]) => {
    try {
      const st = await stat(checkpoint.path);
      if (key.slice(key.indexOf(':') + 1) !== String(st.ino)) return 'moved';
      return st.size === checkpoint.offset ? 'at-end' : 'behind';
    } catch {
      return 'moved';
    }
  });
  const states = await Promise.all(checks);
  return { files: states.length, atEnd: states.filter((s) => s === 'at-end').length, moved: states.filter((s) => s === 'moved').length };
}
