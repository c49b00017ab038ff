import { stat } from 'node:fs';

/** What the poll last saw of one folder: which folder it is, and when its entries last changed. */
interface Seen {
  readonly identity: string;
  readonly mtimeNs: bigint;
  /**
   * The mtime was within a clock tick or so of the look: a change made just after it, in the same
   * tick of the kernel's coarse clock, would leave the mtime as it was. The next look rescans anyway.
   */
  readonly fresh: boolean;
}

/** Wider than any coarse-clock tick of file times (4 ms at HZ=250), with room for a slow stat. */
const FRESH_NS = 100_000_000n;

export interface RootPollOptions {
  /** The folders to look at (the glob patterns' roots); links are followed. */
  readonly dirs: readonly string[];
  readonly intervalMs: number;
  /** An entry was added, removed or renamed in a folder (its mtime moved). */
  readonly onChange: () => void;
  /** A folder is another folder now (removed and recreated, or a link pointed elsewhere), or it came or went. */
  readonly onReplaced: () => void;
}

/**
 * Discovery's floor when inotify says nothing: one stat per glob root per interval. A folder's
 * mtime moves whenever an entry is added, removed or renamed in it, so a new container's link in
 * /var/log/containers, or a host log renamed by logrotate, is noticed within one interval without
 * listing the folder. A root that now names another folder (recreated, or a link retargeted) is
 * reported apart, so the watches can be set up again on it. A handful of stats per second: next to
 * nothing, with or without inotify, so it always runs.
 */
export class RootPoll {
  readonly #o: RootPollOptions;
  readonly #seen = new Map<string, Seen | undefined>();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(options: RootPollOptions) {
    this.#o = options;
  }

  /** Takes the folders' current state as the starting point, then looks every interval. */
  async start(): Promise<void> {
    await this.#look(false);
    this.#timer = setInterval(() => void this.#look(true), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #look(report: boolean): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      let changed = false;
      let replaced = false;
      const now = await Promise.all(this.#o.dirs.map((dir) => statDir(dir)));
      for (const [i, dir] of this.#o.dirs.entries()) {
        const before = this.#seen.get(dir);
        const after = now[i];
        this.#seen.set(dir, after);
        if (before?.identity !== after?.identity) replaced = true;
        else if (before?.mtimeNs !== after?.mtimeNs || before?.fresh === true) changed = true;
      }
      if (!report) return;
      if (replaced) this.#o.onReplaced();
      else if (changed) this.#o.onChange();
    } finally {
      this.#busy = false;
    }
  }
}

function statDir(dir: string): Promise<Seen | undefined> {
  return new Promise((resolve) => {
    stat(dir, { bigint: true }, (err, st) => {
      if (err !== null || !st.isDirectory()) return resolve(undefined);
      const now = BigInt(Date.now()) * 1_000_000n;
      resolve({ identity: `${st.dev}:${st.ino}`, mtimeNs: st.mtimeNs, fresh: now - st.mtimeNs < FRESH_NS });
    });
  });
}
