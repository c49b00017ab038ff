import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** The program under measurement: a child process whose output is kept for failure reports. */
export class ChildProgram {
  readonly name: string;
  readonly pid: number;
  /** Epoch ms just before the process was spawned. */
  readonly startedAt: number;
  readonly #child: ChildProcess;
  readonly #exit: Promise<void>;
  #output = '';

  private constructor(name: string, child: ChildProcess, startedAt: number) {
    if (child.pid === undefined) throw new Error(`${name}: could not start`);
    this.name = name;
    this.pid = child.pid;
    this.startedAt = startedAt;
    this.#child = child;
    this.#exit = once(child, 'exit').then(() => undefined);
    const keep = (chunk: Buffer) => {
      // The last 8 KiB are enough to see why a run failed.
      this.#output = (this.#output + chunk.toString('utf8')).slice(-8192);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static start(name: string, args: readonly string[], options: { cwd: string; env: Record<string, string> }): ChildProgram {
    const startedAt = Date.now();
    // process.execPath is the Node 24 that runs the benchmark (npm scripts use it). stdin is
    // a pipe that closes when the benchmark dies, which the baseline takes as a stop signal.
    const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    return new ChildProgram(name, child, startedAt);
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get exitDescription(): string {
    return this.#child.signalCode !== null ? `signal ${this.#child.signalCode}` : `exit code ${this.#child.exitCode}`;
  }

  get output(): string {
    return this.#output;
  }

  /**
   * SIGTERM, then SIGKILL after `graceMs`. Resolves with the time SIGTERM took to end it,
   * or undefined when it had to be killed (or had already exited).
   */
  async stop(graceMs: number): Promise<number | undefined> {
    if (!this.running) return undefined;
    const t0 = performance.now();
    this.#child.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.#child.kill('SIGKILL');
    }, graceMs);
    timer.unref();
    await this.#exit;
    clearTimeout(timer);
    return killed ? undefined : performance.now() - t0;
  }
}
