import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU and memory of another process, read from /proc the way `top` and `ps` do:
 * utime + stime (fields 14 and 15 of /proc/<pid>/stat, in clock ticks, all threads
 * included) and VmRSS / VmHWM (the kernel's own peak) of /proc/<pid>/status.
 * A timer samples VmRSS every 100 ms as well, to see the shape, not only the peak.
 */

export interface ProcessSample {
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  /** VmHWM: the highest resident set the kernel saw, between samples too. */
  readonly peakRssBytes: number;
}

export class ProcessSampler {
  readonly #pid: number;
  readonly #ticksPerSecond: number;
  #timer: NodeJS.Timeout | undefined;
  #maxSampledRss = 0;
  #last: ProcessSample | undefined;

  constructor(pid: number, ticksPerSecond: number) {
    this.#pid = pid;
    this.#ticksPerSecond = ticksPerSecond;
  }

  /** `getconf CLK_TCK`: the unit of utime and stime (100 on Linux). */
  static clockTicksPerSecond(): number {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  }

  start(intervalMs = 100): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The highest VmRSS among the samples taken. */
  get maxSampledRssBytes(): number {
    return this.#maxSampledRss;
  }

  /** The latest sample; once the process is gone, the last one taken before. */
  get last(): ProcessSample | undefined {
    return this.#last;
  }

  /** Reads /proc now; the last sample when the process has already gone. */
  sample(): ProcessSample | undefined {
    try {
      const stat = readFileSync(`/proc/${this.#pid}/stat`, 'latin1');
      // The command name (field 2) may hold spaces: count fields after its closing paren.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      const status = readFileSync(`/proc/${this.#pid}/status`, 'latin1');
      const rssBytes = kibField(status, 'VmRSS:') * 1024;
      const sample = {
        cpuSeconds: ticks / this.#ticksPerSecond,
        rssBytes,
        peakRssBytes: Math.max(kibField(status, 'VmHWM:') * 1024, rssBytes),
      };
      this.#maxSampledRss = Math.max(this.#maxSampledRss, rssBytes);
      this.#last = sample;
      return sample;
    } catch {
      return this.#last;
    }
  }
}

function kibField(status: string, name: string): number {
  const at = status.indexOf(name);
  if (at === -1) return 0;
  return Number.parseInt(status.slice(at + name.length).trimStart(), 10) || 0;
}
