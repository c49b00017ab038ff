import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { agentCommand, agentCommandEnv } from '../support/agent-command.ts';
import { BulkEndpointProcess } from './bulk-endpoint-process.ts';
import type { BulkEndpointStats } from './bulk-endpoint.ts';
import { ChildProgram } from './child-program.ts';
import { makeNodeTree } from './make-node-tree.ts';
import type { NodeTree } from './make-node-tree.ts';
import { ProcessSampler } from './process-sampler.ts';
import { summarizeCpuProfile } from './summarize-cpu-profile.ts';
import type { ProcessSample } from './process-sampler.ts';
import { writeAtSteadyRate } from './write-at-steady-rate.ts';

/**
 * `npm run bench [-- --lines 2000000]`: nodetail against the bare Node baseline on the
 * same node log tree, the same loopback `_bulk` endpoint (its own process), the same run
 * (issue 5). Prints figures; asserts nothing.
 *
 *   --lines N           records in the backfill tree (default 300000; the issue's run: 2000000)
 *   --only PROGRAM      baseline | nodetail
 *   --skip-latency      no steady-rate phase
 *   --skip-idle         no idle phase
 *   --cpu-prof          profile the programs (node --cpu-prof); the directory is printed
 *   --agent-flags=F     node flags for the agent only, e.g. --agent-flags="--max-semi-space-size=2"
 *   --agent-env K=V,... extra settings for the agent, e.g. --agent-env NODETAIL_READ_CHUNK_BYTES=64KiB
 *   --rate N            steady-rate phase, lines per second (default 10000)
 *   --latency-seconds N (default 10)   --idle-files N (default 2000)   --idle-seconds N (default 20)
 *   --json FILE         also write the figures as JSON, to compare runs
 */

type ProgramName = 'baseline' | 'nodetail';

interface Options {
  readonly lines: number;
  readonly containers: number;
  readonly programs: readonly ProgramName[];
  readonly latency: boolean;
  readonly idle: boolean;
  readonly cpuProf: boolean;
  /** Node flags for the agent only (to try V8 settings before they go into its start command). */
  readonly agentFlags: readonly string[];
  /** Extra environment for the agent (settings to compare before changing a default). */
  readonly agentEnv: Readonly<Record<string, string>>;
  readonly rate: number;
  readonly latencySeconds: number;
  readonly idleFiles: number;
  readonly idleSeconds: number;
  readonly json: string | undefined;
}

interface SteadyResult {
  readonly program: ProgramName;
  readonly records: number;
  readonly linesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cpuPercentOfOneCore: number;
  readonly rssMB: number;
}

interface IdleResult {
  readonly program: ProgramName;
  readonly files: number;
  readonly seconds: number;
  readonly cpuPercentOfOneCore: number;
  readonly rssMB: number;
}

/** Everything the run measured, for `--json`. */
interface Report {
  machine?: { cores: number; cpu: string; memoryGiB: number; kernel: string; node: string; loadAverage: number[] };
  tree?: { records: number; physicalLines: number; bytes: number; containers: number };
  backfill: Array<Record<string, number | string>>;
  steady?: SteadyResult;
  idle?: IdleResult;
}

interface BackfillResult {
  readonly program: ProgramName;
  readonly status: DeliveryStatus;
  readonly records: number;
  readonly bytes: number;
  readonly wallSeconds: number;
  readonly firstItemSeconds: number;
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
  readonly maxSampledRssBytes: number;
  readonly stats: BulkEndpointStats;
  readonly endpointCpuSeconds: number;
}

type DeliveryStatus = 'complete' | 'stalled' | 'exited' | 'timeout';

interface Delivery {
  readonly status: DeliveryStatus;
  readonly stats: BulkEndpointStats;
  /** The program's CPU and memory when delivery completed (or gave up). */
  readonly sample: ProcessSample | undefined;
}

interface Running {
  readonly program: ChildProgram;
  readonly sampler: ProcessSampler;
}

const REPO = join(import.meta.dirname, '..', '..');
const BASELINE = join(import.meta.dirname, 'baseline.ts');
/** Long enough for a graceful shutdown (the agent's own default is 20 s). */
const STOP_GRACE_MS = 25_000;
const POLL_MS = 100;
/** The agent starts as package.json's `start` says (its node flags and compile cache), as everywhere. */
const AGENT = agentCommand();

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string', default: '300000' },
      containers: { type: 'string', default: '50' },
      only: { type: 'string' },
      'skip-latency': { type: 'boolean', default: false },
      'skip-idle': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'agent-flags': { type: 'string', default: '' },
      'agent-env': { type: 'string', default: '' },
      rate: { type: 'string', default: '10000' },
      'latency-seconds': { type: 'string', default: '10' },
      'idle-files': { type: 'string', default: '2000' },
      'idle-seconds': { type: 'string', default: '20' },
      json: { type: 'string' },
    },
  });
  const positive = (name: string, value: string): number => {
    const n = Number(value.replaceAll('_', '').replaceAll(',', ''));
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };
  if (values.only !== undefined && values.only !== 'baseline' && values.only !== 'nodetail') {
    throw new Error(`--only: expected baseline or nodetail, got ${JSON.stringify(values.only)}`);
  }
  return {
    lines: positive('lines', values.lines),
    containers: positive('containers', values.containers),
    programs: values.only === undefined ? ['baseline', 'nodetail'] : [values.only],
    latency: !values['skip-latency'],
    idle: !values['skip-idle'],
    cpuProf: values['cpu-prof'],
    agentFlags: values['agent-flags'].split(' ').filter((f) => f !== ''),
    agentEnv: Object.fromEntries(values['agent-env'].split(',').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    rate: positive('rate', values.rate),
    latencySeconds: positive('latency-seconds', values['latency-seconds']),
    idleFiles: positive('idle-files', values['idle-files']),
    idleSeconds: positive('idle-seconds', values['idle-seconds']),
    json: values.json,
  };
}

class Bench {
  readonly #options: Options;
  readonly #endpoint: BulkEndpointProcess;
  readonly #work: string;
  readonly #ticks: number;
  readonly #signal: AbortSignal;
  readonly #profileDir: string | undefined;
  /** Everything started and not yet stopped: the finally block of main() stops these. */
  readonly running = new Set<Running>();
  readonly report: Report = { backfill: [] };

  constructor(options: Options, endpoint: BulkEndpointProcess, work: string, signal: AbortSignal, profileDir: string | undefined) {
    this.#options = options;
    this.#endpoint = endpoint;
    this.#work = work;
    this.#ticks = ProcessSampler.clockTicksPerSecond();
    this.#signal = signal;
    this.#profileDir = profileDir;
  }

  /**
   * Starts a program on a tree, with a fresh state directory, sampled every 100 ms.
   * With --cpu-prof, its profiles go to `<profile dir>/<program>-<phase>/`.
   */
  async start(name: ProgramName, phase: string, tree: NodeTree, follow: boolean): Promise<Running> {
    this.#signal.throwIfAborted();
    const profile = this.#profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(this.#profileDir, `${name}-${phase}`)];
    let program: ChildProgram;
    if (name === 'nodetail') {
      const stateDir = await mkdtemp(join(this.#work, 'state-'));
      program = ChildProgram.start(name, [...profile, ...AGENT.nodeFlags, ...this.#options.agentFlags, 'agent/main.ts'], {
        cwd: REPO,
        env: {
          ...agentCommandEnv(),
          ELASTICSEARCH_URL: this.#endpoint.url,
          NODETAIL_PATHS: tree.containersGlob,
          NODETAIL_CONTAINER_LOG_ROOTS: join(tree.root, 'var', 'log', 'pods'),
          NODETAIL_STATE_DIR: stateDir,
          NODETAIL_READ_FROM: 'head',
          NODE_NAME: 'bench-node',
          NODETAIL_HTTP_PORT: '0',
          NODETAIL_KUBERNETES_METADATA: 'off',
          NODETAIL_LOG_LEVEL: 'warn',
          ...this.#options.agentEnv,
        },
      });
    } else {
      const args = [...profile, BASELINE, '--dir', tree.containersDir, '--url', this.#endpoint.url];
      program = ChildProgram.start(name, follow ? [...args, '--follow'] : args, { cwd: REPO, env: {} });
    }
    const sampler = new ProcessSampler(program.pid, this.#ticks);
    sampler.start(POLL_MS);
    const running = { program, sampler };
    this.running.add(running);
    return running;
  }

  /** SIGTERM, then SIGKILL after a grace period; says how the program took it. */
  async stop(running: Running): Promise<void> {
    running.sampler.stop();
    this.running.delete(running);
    if (!running.program.running) return;
    // Interrupted: the endpoint may be gone already, so a graceful flush would only wait.
    const graceMs = this.#signal.aborted ? 2_000 : STOP_GRACE_MS;
    const shutdownMs = await running.program.stop(graceMs);
    log(`  ${running.program.name}: ${shutdownMs === undefined ? `killed after ${graceMs / 1000} s without exiting on SIGTERM` : `exited ${fmt(shutdownMs)} ms after SIGTERM`}`);
  }

  /** Polls the endpoint until `expected` distinct records arrived, or progress stops. */
  async awaitDelivery(running: Running, expected: number, stallMs: number, deadlineMs: number): Promise<Delivery> {
    const deadline = Date.now() + deadlineMs;
    let lastDistinct = -1;
    let lastProgressAt = Date.now();
    let lastReportAt = Date.now();
    for (;;) {
      this.#signal.throwIfAborted();
      const stats = await this.#endpoint.stats();
      const now = Date.now();
      let status: DeliveryStatus | undefined;
      if (stats.distinct >= expected) status = 'complete';
      else if (!running.program.running) status = 'exited';
      else if (now > deadline) status = 'timeout';
      else if (stats.distinct !== lastDistinct) lastProgressAt = now;
      else if (now - lastProgressAt > stallMs) status = 'stalled';
      if (status !== undefined) return { status, stats, sample: running.sampler.sample() };
      lastDistinct = stats.distinct;
      if (now - lastReportAt >= 10_000) {
        lastReportAt = now;
        log(`  ${running.program.name}: ${fmt(stats.distinct)} / ${fmt(expected)} records received`);
      }
      await sleep(POLL_MS, undefined, { signal: this.#signal });
    }
  }

  async backfill(name: ProgramName, tree: NodeTree, follow: boolean): Promise<{ result: BackfillResult; running: Running | undefined }> {
    await this.#endpoint.reset({ seqBase: 0, seqCount: tree.records, latency: false });
    const endpointBefore = (await this.#endpoint.stats()).endpointCpuSeconds;
    log(`${name}: backfill of ${fmt(tree.records)} records...`);
    const running = await this.start(name, 'backfill', tree, follow);
    const delivery = await this.awaitDelivery(running, tree.records, 30_000, 120_000 + tree.records / 2);
    const { stats, sample } = delivery;
    const end = stats.lastDistinctAt > 0 ? stats.lastDistinctAt : Date.now();
    const result: BackfillResult = {
      program: name,
      status: delivery.status,
      records: stats.distinct,
      bytes: tree.bytes * (stats.distinct / tree.records),
      wallSeconds: (end - running.program.startedAt) / 1000,
      firstItemSeconds: stats.firstItemAt > 0 ? (stats.firstItemAt - running.program.startedAt) / 1000 : Number.NaN,
      cpuSeconds: sample?.cpuSeconds ?? Number.NaN,
      peakRssBytes: sample?.peakRssBytes ?? Number.NaN,
      maxSampledRssBytes: running.sampler.maxSampledRssBytes,
      stats,
      endpointCpuSeconds: stats.endpointCpuSeconds - endpointBefore,
    };
    log(`${name}: ${delivery.status} in ${result.wallSeconds.toFixed(2)} s, ${fmt(result.records / result.wallSeconds)} lines/s, CPU ${result.cpuSeconds.toFixed(2)} s, peak RSS ${mb(result.peakRssBytes)} MB`);
    if (delivery.status !== 'complete') {
      reportFailure(running.program, delivery);
      await this.stop(running);
      return { result, running: undefined };
    }
    return { result, running };
  }

  /** The steady-rate phase on a program that has finished its backfill and follows the files. */
  async latency(running: Running, tree: NodeTree): Promise<SteadyResult | undefined> {
    const { rate, latencySeconds } = this.#options;
    const seqBase = tree.records;
    await this.#endpoint.reset({ seqBase, seqCount: rate * latencySeconds + rate, latency: true });
    log(`${running.program.name}: steady rate, ${fmt(rate)} lines/s for ${latencySeconds} s into ${tree.files.length} followed files...`);
    const before = running.sampler.sample();
    const t0 = performance.now();
    const written = await writeAtSteadyRate({
      paths: tree.files.map((file) => file.path),
      linesPerSecond: rate,
      durationMs: latencySeconds * 1000,
      seqBase,
      seed: 2,
      signal: this.#signal,
    });
    const delivery = await this.awaitDelivery(running, written.records, 30_000, 60_000);
    const seconds = (performance.now() - t0) / 1000;
    const latency = (await this.#endpoint.stats(true)).latency;
    const cpu = (delivery.sample?.cpuSeconds ?? Number.NaN) - (before?.cpuSeconds ?? Number.NaN);
    if (latency === undefined || delivery.status !== 'complete') {
      log(`${running.program.name}: steady rate ${delivery.status}: ${fmt(delivery.stats.distinct)} of ${fmt(written.records)} records arrived`);
      reportFailure(running.program, delivery);
      return undefined;
    }
    const result: SteadyResult = {
      program: running.program.name as ProgramName,
      records: written.records,
      linesPerSecond: rate,
      p50Ms: latency.p50,
      p99Ms: latency.p99,
      maxMs: latency.max,
      cpuPercentOfOneCore: (cpu / seconds) * 100,
      rssMB: (delivery.sample?.rssBytes ?? Number.NaN) / 1e6,
    };
    log(
      `\nSteady rate (${running.program.name}): ${fmt(written.records)} records (${mb(written.bytes)} MB) at ${fmt(rate)} lines/s` +
        `\n  write-to-arrival delay: p50 ${fmt(latency.p50)} ms, p99 ${fmt(latency.p99)} ms, max ${fmt(latency.max)} ms (${fmt(latency.count)} records)` +
        `\n  CPU ${result.cpuPercentOfOneCore.toFixed(1)} % of one core, RSS ${result.rssMB.toFixed(1)} MB` +
        (delivery.stats.duplicates + delivery.stats.foreign > 0 ? `\n  duplicates ${fmt(delivery.stats.duplicates)}, records from the backfill sent again ${fmt(delivery.stats.foreign)}` : ''),
    );
    return result;
  }

  /** A fresh program on a tree of many quiet files: what it costs to wait. */
  async idle(name: ProgramName): Promise<IdleResult | undefined> {
    const { idleFiles, idleSeconds } = this.#options;
    const tree = await makeNodeTree({ root: join(this.#work, 'idle'), records: idleFiles, containers: idleFiles, seed: 3, evenly: true });
    await this.#endpoint.reset({ seqBase: 0, seqCount: tree.records, latency: false });
    log(`${name}: idle, ${fmt(idleFiles)} files with one line each, then nothing written for ${idleSeconds} s...`);
    const running = await this.start(name, 'idle', tree, true);
    try {
      const delivery = await this.awaitDelivery(running, tree.records, 60_000, 120_000);
      if (delivery.status !== 'complete') {
        reportFailure(running.program, delivery);
        return undefined;
      }
      // Let start-up work (checkpoint writes, the first rescan) finish before measuring.
      await sleep(5_000, undefined, { signal: this.#signal });
      const before = running.sampler.sample();
      const t0 = performance.now();
      await sleep(idleSeconds * 1000, undefined, { signal: this.#signal });
      const after = running.sampler.sample();
      const seconds = (performance.now() - t0) / 1000;
      const cpu = (after?.cpuSeconds ?? Number.NaN) - (before?.cpuSeconds ?? Number.NaN);
      log(
        `\nIdle (${name}): ${fmt(idleFiles)} files, nothing written, ${seconds.toFixed(1)} s` +
          `\n  CPU ${((cpu / seconds) * 100).toFixed(2)} % of one core (${cpu.toFixed(2)} s), RSS ${mb(after?.rssBytes ?? Number.NaN)} MB, peak RSS ${mb(after?.peakRssBytes ?? Number.NaN)} MB`,
      );
      return { program: name, files: idleFiles, seconds, cpuPercentOfOneCore: (cpu / seconds) * 100, rssMB: (after?.rssBytes ?? Number.NaN) / 1e6 };
    } finally {
      await this.stop(running);
    }
  }

  async run(): Promise<void> {
    const options = this.#options;
    const t0 = performance.now();
    const tree = await makeNodeTree({ root: join(this.#work, 'tree'), records: options.lines, containers: options.containers, seed: 1 });
    log(
      `tree: ${fmt(tree.records)} records (${fmt(tree.physicalLines)} lines with CRI partials), ${mb(tree.bytes)} MB, ` +
        `${tree.files.length} containers, ${(tree.bytes / tree.physicalLines).toFixed(0)} bytes per line, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    this.report.tree = { records: tree.records, physicalLines: tree.physicalLines, bytes: tree.bytes, containers: tree.files.length };

    // The last program of the list also does the steady-rate and idle phases.
    const follower = options.programs[options.programs.length - 1] as ProgramName;
    const results: BackfillResult[] = [];
    for (const name of options.programs) {
      const follows = name === follower && options.latency;
      const { result, running } = await this.backfill(name, tree, follows);
      results.push(result);
      this.report.backfill.push({ program: name, status: result.status, ...Object.fromEntries(BACKFILL_ROWS.map(([label, value]) => [label, value(result)])) });
      if (running === undefined) continue;
      try {
        if (follows) {
          const steady = await this.latency(running, tree);
          if (steady !== undefined) this.report.steady = steady;
        }
      } finally {
        await this.stop(running);
      }
    }
    log(`\n${backfillTable(results)}`);
    if (options.idle) {
      const idle = await this.idle(follower);
      if (idle !== undefined) this.report.idle = idle;
    }
  }
}

/** The backfill table: label, figure, format, and whether a nodetail/baseline ratio means something. */
const BACKFILL_ROWS: ReadonlyArray<readonly [string, (r: BackfillResult) => number, (n: number) => string, boolean]> = [
  ['records delivered', (r) => r.records, fmt, false],
  ['seconds (start to last record)', (r) => r.wallSeconds, (n) => n.toFixed(2), false],
  ['lines/s', (r) => r.records / r.wallSeconds, fmt, true],
  ['lines/s after the first record', (r) => r.records / (r.wallSeconds - r.firstItemSeconds), fmt, true],
  ['MB/s', (r) => r.bytes / 1e6 / r.wallSeconds, (n) => n.toFixed(1), true],
  ['CPU s (user + sys)', (r) => r.cpuSeconds, (n) => n.toFixed(2), false],
  ['CPU s per million lines', (r) => r.cpuSeconds / (r.records / 1e6), (n) => n.toFixed(2), true],
  ['CPU s per GB', (r) => r.cpuSeconds / (r.bytes / 1e9), (n) => n.toFixed(2), true],
  ['peak RSS MB (VmHWM)', (r) => r.peakRssBytes / 1e6, (n) => n.toFixed(0), true],
  ['max RSS MB sampled every 100 ms', (r) => r.maxSampledRssBytes / 1e6, (n) => n.toFixed(0), false],
  ['first record after start, s', (r) => r.firstItemSeconds, (n) => n.toFixed(2), false],
  ['_bulk requests', (r) => r.stats.requests, fmt, false],
  ['documents received', (r) => r.stats.items, fmt, false],
  ['duplicate records', (r) => r.stats.duplicates, fmt, false],
  ['endpoint CPU s', (r) => r.endpointCpuSeconds, (n) => n.toFixed(2), false],
];

function backfillTable(results: readonly BackfillResult[]): string {
  const baseline = results.find((r) => r.program === 'baseline');
  const nodetail = results.find((r) => r.program === 'nodetail');
  const header = ['', ...results.map((r) => (r.status === 'complete' ? r.program : `${r.program} (${r.status})`))];
  if (baseline !== undefined && nodetail !== undefined) header.push('nodetail/baseline');
  const table = [header];
  for (const [label, value, format, ratio] of BACKFILL_ROWS) {
    const row = [label, ...results.map((r) => format(value(r)))];
    if (baseline !== undefined && nodetail !== undefined) row.push(ratio ? (value(nodetail) / value(baseline)).toFixed(2) : '');
    table.push(row);
  }
  const widths = header.map((_, c) => Math.max(...table.map((row) => (row[c] ?? '').length)));
  return table.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('   ')).join('\n');
}

/** Each profile's top functions by self time; the files stay for DevTools. */
async function summarizeProfiles(profileDir: string): Promise<void> {
  log(`\nCPU profiles (open in Chrome DevTools > Performance): ${profileDir}`);
  for (const entry of await readdir(profileDir, { recursive: true })) {
    if (!entry.endsWith('.cpuprofile')) continue;
    log(`\n${entry}: top functions by self time\n${await summarizeCpuProfile(join(profileDir, entry), 15, REPO)}`);
  }
}

function reportFailure(program: ChildProgram, delivery: Delivery): void {
  log(
    `  ${program.name} ${delivery.status}${program.running ? '' : ` (${program.exitDescription})`}: ` +
      `${fmt(delivery.stats.distinct)} distinct records, ${fmt(delivery.stats.items)} documents received. Its last output:\n` +
      program.output.trimEnd().split('\n').slice(-20).map((line) => `    | ${line}`).join('\n'),
  );
}

function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

function mb(bytes: number): string {
  return Number.isFinite(bytes) ? (bytes / 1e6).toFixed(1) : '-';
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const options = parseOptions();
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const cpu = cpus();
  const machine = {
    cores: cpu.length,
    cpu: cpu[0]?.model ?? 'unknown CPU',
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    kernel: release(),
    node: process.version,
    loadAverage: loadavg(),
  };
  log(`machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memoryGiB} GiB RAM, Linux ${machine.kernel}, node ${machine.node}`);
  // Other work on the machine skews every figure: a load above ~0.5 before the start says so.
  log(`load average before the run: ${machine.loadAverage.map((n) => n.toFixed(2)).join(' ')}`);
  const work = await mkdtemp(join(tmpdir(), 'nodetail-bench-'));
  const profileDir = options.cpuProf ? join(tmpdir(), `nodetail-bench-profiles-${Date.now()}`) : undefined;
  if (profileDir !== undefined) await mkdir(profileDir, { recursive: true });
  let endpoint: BulkEndpointProcess | undefined;
  let bench: Bench | undefined;
  try {
    // As in the image, whose build fills the compile cache: measured runs start from a warm one.
    execFileSync(process.execPath, [...AGENT.nodeFlags, 'agent/main.ts', '--version'], { cwd: REPO, env: { ...agentCommandEnv() }, stdio: 'ignore' });
    endpoint = await BulkEndpointProcess.start(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(profileDir, 'endpoint')]);
    bench = new Bench(options, endpoint, work, controller.signal, profileDir);
    bench.report.machine = machine;
    await bench.run();
    if (options.json !== undefined) {
      await writeFile(options.json, `${JSON.stringify(bench.report, null, 2)}\n`);
      log(`\nfigures written to ${options.json}`);
    }
  } catch (error) {
    // Ctrl-C: the finally below stops and removes everything; no stack trace needed.
    if (!controller.signal.aborted) throw error;
    log('bench: interrupted');
    process.exitCode = 130;
  } finally {
    for (const running of bench?.running ?? []) await bench?.stop(running);
    await endpoint?.stop();
    await rm(work, { recursive: true, force: true });
    // After the endpoint has exited, so that its profile is written.
    if (profileDir !== undefined && bench !== undefined) await summarizeProfiles(profileDir);
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

await main();
