import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { agentCommand, agentCommandEnv } from './agent-command.ts';
import { logRootsFor } from './fake-node.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Settings that make the agent quick to react in tests; each test adds or overrides its own. */
export const FAST_ENV: Readonly<Record<string, string>> = {
  NODETAIL_HTTP_PORT: '0',
  NODETAIL_HTTP_ADDRESS: '127.0.0.1',
  NODETAIL_POLL_INTERVAL_MS: '100',
  NODETAIL_RESCAN_INTERVAL_MS: '500',
  NODETAIL_ROTATE_WAIT_MS: '1000',
  NODETAIL_CHECKPOINT_INTERVAL_MS: '100',
  NODETAIL_BATCH_MAX_DELAY_MS: '50',
  NODETAIL_KUBERNETES_METADATA: 'off',
  NODETAIL_LOG_LEVEL: 'info',
  NODE_NAME: 'test-node',
};

/**
 * The real agent (`node agent/main.ts`) as a child process. With no Elasticsearch configured
 * its records arrive on stdout, one JSON document per line, and its self-log on stderr; with
 * one, the self-log is on stdout (and `records` stays empty).
 */
export class AgentProcess {
  readonly child: ChildProcess;
  /** Every record the agent wrote to stdout, parsed, in order, across the process's life. */
  readonly records: Record<string, unknown>[] = [];
  /** The self-log lines, parsed (non-JSON lines kept as `{ raw }`). */
  readonly logs: Record<string, unknown>[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stdout = '';
  #stderr = '';

  /** `wrapper`: a command the agent is started through (`setpriv ... --` to run it with fewer capabilities). */
  constructor(env: Record<string, string>, args: readonly string[] = [], options: { uid?: number; gid?: number; wrapper?: readonly string[] } = {}) {
    // Started as everywhere (package.json start, the Dockerfile, the benchmark).
    // The agent follows links only into its container log roots: a fake node's are below its root.
    const roots = env.NODETAIL_PATHS === undefined ? {} : { NODETAIL_CONTAINER_LOG_ROOTS: logRootsFor(env.NODETAIL_PATHS) };
    const { wrapper = [], ...ids } = options;
    const command = [...wrapper, process.execPath, ...agentCommand().nodeFlags, join(ROOT, 'agent/main.ts'), ...args];
    this.child = spawn(command[0] as string, command.slice(1), {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...agentCommandEnv(), ...FAST_ENV, ...roots, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...ids,
    });
    const merged = { ...FAST_ENV, ...env };
    const logsOnStdout = Boolean(merged.ELASTICSEARCH_URL || merged.FLUENT_ELASTICSEARCH_HOST);
    const toLogs = (line: string) => this.logs.push(parseLine(line));
    // A stdout line that is not JSON is kept as { unparsed } so that record counts show it.
    const toRecords = (line: string) => this.records.push(parseLine(line));
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stdout += chunk;
      this.#stdout = drainLines(this.#stdout, logsOnStdout ? toLogs : toRecords);
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk;
      this.#stderr = drainLines(this.#stderr, toLogs);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Waits until `predicate` holds, polling; throws with `what` after `timeoutMs`. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last logs: ${JSON.stringify(this.logs.slice(-5))}`);
      if (this.child.exitCode !== null) throw new Error(`agent exited (${this.child.exitCode}) while waiting for ${what}; logs: ${JSON.stringify(this.logs.slice(-10))}`);
      await sleep(25);
    }
  }

  /** The HTTP port the agent listens on (from its start-up log line). */
  async httpPort(): Promise<number> {
    await this.waitFor('the start-up log line', () => this.logs.some((l) => l.msg === 'nodetail started'));
    return (this.logs.find((l) => l.msg === 'nodetail started') as { httpPort: number }).httpPort;
  }

  /** SIGTERM, then the exit status. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  async kill9(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

function parseLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { unparsed: line };
  }
}

function drainLines(buffer: string, onLine: (line: string) => void): string {
  let nl = buffer.indexOf('\n');
  let start = 0;
  while (nl >= 0) {
    const line = buffer.slice(start, nl);
    if (line !== '') onLine(line);
    start = nl + 1;
    nl = buffer.indexOf('\n', start);
  }
  return buffer.slice(start);
}

/** A temporary state dir, removed by the returned function. */
export async function tempStateDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-state-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Counts each `seq=<n>` token per key in the records: the tool every end-to-end test uses to
 * say "every line exactly once".
 */
export function sequenceCounts<R extends Record<string, unknown>>(records: readonly R[], keyOf: (r: R) => string, message: (r: R) => string = (r) => String(r.log)): Map<string, Map<number, number>> {
  const counts = new Map<string, Map<number, number>>();
  for (const r of records) {
    const m = /seq=(\d+)/.exec(message(r));
    if (m === null) continue;
    const key = keyOf(r);
    let perKey = counts.get(key);
    if (perKey === undefined) counts.set(key, (perKey = new Map()));
    const seq = Number(m[1]);
    perKey.set(seq, (perKey.get(seq) ?? 0) + 1);
  }
  return counts;
}

/** Missing and repeated sequence numbers for a key that should hold 0..n-1 exactly once. */
export function gaps(counts: Map<number, number> | undefined, n: number): { missing: number[]; repeated: number[] } {
  const missing: number[] = [];
  const repeated: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = counts?.get(i) ?? 0;
    if (c === 0) missing.push(i);
    else if (c > 1) repeated.push(i);
  }
  return { missing, repeated };
}
