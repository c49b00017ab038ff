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

export interface AgentProcessOptions {
  /**
   * Run as root but without the capabilities that let root read or search any file whatever its
   * mode (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), through util-linux's setpriv: as the DaemonSet
   * runs it (uid 0, every capability dropped), so a mode-000 file really cannot be read. Running
   * as another user instead would also need the repository and its Node binary to be reachable
   * by that user, which a clone in a private folder (mode 0700) is not. A no-op when not root.
   */
  readonly withoutFileOverride?: boolean;
  /**
   * Every inotify instance refused to the agent (EMFILE), as on a node whose other agents took all
   * of `fs.inotify.max_user_instances` for its uid: util-linux's unshare puts it in a user namespace
   * of its own (mapped to the same uid, so it reaches what it reached before) whose
   * `user.max_inotify_instances` is 0. Only the agent is concerned, not the tests beside it.
   */
  readonly withoutInotify?: boolean;
  /** A command the agent is started through, e.g. `setpriv ... --` with an exact capability set. */
  readonly wrapper?: readonly string[];
}

const WITHOUT_FILE_OVERRIDE = ['setpriv', '--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search', '--'];
const WITHOUT_INOTIFY = ['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 0 > /proc/sys/user/max_inotify_instances && exec "$@"', 'sh'];

/** The command line, wrapped in what takes away what `options` asks to take away. */
function wrapped(command: readonly string[], options: AgentProcessOptions): string[] {
  if (options.wrapper !== undefined) return [...options.wrapper, ...command];
  if (options.withoutInotify === true) return [...WITHOUT_INOTIFY, ...command];
  if (options.withoutFileOverride === true && process.getuid?.() === 0) return [...WITHOUT_FILE_OVERRIDE, ...command];
  return [...command];
}

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
  /** Why the process could not be started, if it could not. */
  spawnError: Error | undefined;
  #stdout = '';
  #stderr = '';

  constructor(env: Record<string, string>, args: readonly string[] = [], options: AgentProcessOptions = {}) {
    // Started as everywhere (package.json start, the Dockerfile, the benchmark).
    // The agent follows links only into its container log roots: a fake node's are below its root.
    const roots = env.NODETAIL_PATHS === undefined ? {} : { NODETAIL_CONTAINER_LOG_ROOTS: logRootsFor(env.NODETAIL_PATHS) };
    const command = [process.execPath, ...agentCommand().nodeFlags, join(ROOT, 'agent/main.ts'), ...args];
    const [file, ...argv] = wrapped(command, options);
    this.child = spawn(file as string, argv, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...agentCommandEnv(), ...FAST_ENV, ...roots, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A process that cannot be started emits 'error': with no listener that is an uncaught
    // exception in the test's process, which node:test can turn into a native abort while
    // reporting it (nodejs/node#65667) instead of a failed test that says why.
    this.child.once('error', (error) => (this.spawnError = error));
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
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
      this.child.once('error', () => resolve({ code: null, signal: null }));
    });
  }

  /** True once the process has ended, or could not be started. */
  get gone(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null || this.spawnError !== undefined;
  }

  /** Waits until `predicate` holds, polling; throws with `what` after `timeoutMs`. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last logs: ${JSON.stringify(this.logs.slice(-5))}`);
      if (this.spawnError !== undefined) throw new Error(`the agent could not be started (${this.spawnError.message}) while waiting for ${what}`);
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
    if (!this.gone) this.child.kill('SIGTERM');
    return this.exited;
  }

  async kill9(): Promise<void> {
    if (!this.gone) this.child.kill('SIGKILL');
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
