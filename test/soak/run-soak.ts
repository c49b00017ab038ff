/**
 * The soak: the real agent shipping a busy node's logs into the fake Elasticsearch while
 * everything that can go wrong on a node goes wrong, then an exact comparison of the index
 * with what was written. Used by `npm run soak` (test/soak/run.ts, about 5 minutes) and by
 * test/integration/soak-short.test.ts (about a minute, in CI).
 *
 * What happens, all driven by one seeded PRNG so a run can be repeated:
 * - every container writes numbered lines (`seq=<n> t=<write time ms>`) at a steady rate, a tenth of
 *   them eight times faster than the rest, one line in 2000 longer than 16 KiB (CRI `P` parts /
 *   docker chunks); containerd, CRI-O and docker layouts mixed;
 * - kubelet-style rotation when a file passed `rotateBytes` (FakeContainer.rotate: rename, gzip the
 *   older rotated files, keep 5);
 * - the agent is killed with SIGKILL every 5-15 s and started again at once;
 * - the fake Elasticsearch answers 10 % of the items 429, goes away for `outageSeconds`, and
 *   then answers 413 to requests above 64 KiB until the soak sees the first one (it looks every
 *   100 ms, so usually a few: the agent splits and sends the halves meanwhile);
 * - new pods appear, pods are deleted, containers restart (`<n+1>.log`), and one container
 *   writes random bytes.
 *
 * What counts (the honest rule): a line counts as missing when it was written to a file the agent
 * could still read. Two things a real node does destroy unread lines and are not the agent's to
 * prevent (README, Reliability): gzipping a rotated file the agent had not finished, and deleting
 * a pod whose lines were never read. The soak plays a node that does neither: a rotation is
 * deferred while an earlier rotated file of that container is not yet checkpointed to its end
 * (kubelet checks sizes every 10 s, so files overshoot `containerLogMaxSize` in real life too), and
 * a pod is deleted only once the agent's checkpoint passed every line of it. Both waits are
 * counted and printed, so a run where they dominate is visible. Container restarts happen at any
 * moment: the previous `<n>.log` stays on disk, as the kubelet leaves it until the pod goes.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileKey, fingerprintOf, FINGERPRINT_BYTES } from '../../agent/tail/file-identity.ts';
import { ProcessSampler } from '../bench/process-sampler.ts';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { startFakeElasticsearch, type FakeElasticsearch } from '../support/fake-elasticsearch.ts';
import { FakeNode, type FakeContainer, type RuntimeFormat } from '../support/fake-node.ts';
import { SeededRandom } from '../unit/decode/seeded-random.ts';

export interface SoakOptions {
  /** How long lines are written (the run takes longer: start-up and the final drain). */
  readonly seconds: number;
  /** Containers at the start (one per pod); about a tenth more are added during the run. */
  readonly containers: number;
  /** Lines per second over all containers. */
  readonly linesPerSecond: number;
  readonly rotateBytes: number;
  readonly outageSeconds: number;
  readonly killEveryMs: readonly [number, number];
  readonly itemRejectRate: number;
  readonly seed: number;
  /**
   * V8's old-space limit for the agents (`--max-old-space-size`), as a memory-limited container
   * would impose; undefined: Node's default for this machine's memory, which lets the heap grow
   * far past what a 256 MiB pod allows before it collects.
   */
  readonly maxOldSpaceMiB?: number;
  /** How long the agent may take to index everything after the writing stopped. */
  readonly drainTimeoutMs: number;
  /** Appends every agent's self-log (one JSON line each, `agent` = its number) to this file, for a post-mortem. */
  readonly agentLogFile?: string;
  /** Progress lines (every 10 s); nothing when undefined. */
  readonly progress?: (line: string) => void;
  /** Ends the run early (Ctrl-C): everything started is stopped and removed, and runSoak rejects. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_SOAK_OPTIONS: SoakOptions = {
  seconds: 300,
  containers: 200,
  linesPerSecond: 1500,
  rotateBytes: 1 << 20,
  outageSeconds: 30,
  killEveryMs: [5000, 15_000],
  itemRejectRate: 0.1,
  seed: 1,
  drainTimeoutMs: 180_000,
};

export interface SoakResult {
  readonly options: Omit<SoakOptions, 'progress' | 'signal'>;
  readonly wallSeconds: number;
  readonly linesWritten: number;
  /** Written lines found in the index (each counted once). */
  readonly linesIndexed: number;
  readonly missing: number;
  /** Where the missing lines were: `<pod> (<format>) seq a-b`, the first 20 ranges. */
  readonly missingRanges: readonly string[];
  /** Lines found in the index more than once (the same seq under two or more `_id`s). */
  readonly duplicated: number;
  /** Documents in the index carrying a seq that was never written, or no seq at all (must be 0 too). */
  readonly unexpected: number;
  /** The first 10 of them: `<pod>: <start of the message>`. */
  readonly unexpectedSamples: readonly string[];
  /**
   * Documents indexed without `kubernetes.pod_name` (counted by their container id or pod uid
   * instead): the agent lost the pod's fields for them. Not a lost line, but a defect to report.
   */
  readonly withoutPodName: number;
  readonly withoutPodNameSamples: readonly string[];
  readonly documents: number;
  /** Records of the random-bytes container that reached the index. */
  readonly randomBytesDocuments: number;
  readonly randomBytesWritten: number;
  /** Dead letters by `<status> <error type>` (from the agent's dead-letter file). */
  readonly deadLettered: Readonly<Record<string, number>>;
  /** Written lines that were dead-lettered instead of indexed (they are not counted missing). */
  readonly deadLetteredLines: number;
  readonly restarts: number;
  /** Agent exits that the soak did not cause (crashes): must be 0. */
  readonly crashes: number;
  /** Each crash: exit status and the agent's last log lines. */
  readonly crashReports: readonly string[];
  readonly peakRssBytes: number;
  /** The agents' warnings and errors, by `<level>: <message>`, over all their lives. */
  readonly agentWarnings: Readonly<Record<string, number>>;
  readonly longestDelayMs: number;
  readonly rotations: number;
  readonly deferredRotations: number;
  readonly newPods: number;
  readonly deletedPods: number;
  readonly deletedPodLines: number;
  /** Deletions still waiting for the agent when the writing stopped (those pods were kept). */
  readonly deletionsNotDone: number;
  readonly containerRestarts: number;
  readonly answers: { readonly items429: number; readonly items409: number; readonly requests413: number; readonly refusedDuringOutage: boolean };
  readonly drained: boolean;
  /** Exit status of the last agent, stopped with SIGTERM. */
  readonly lastExit: { code: number | null; signal: string | null };
}

/** The fields of an indexed document (fluentd schema) the soak reads. */
interface SoakDocument {
  readonly log?: unknown;
  readonly kubernetes?: { readonly pod_name?: unknown; readonly pod_id?: unknown };
  readonly docker?: { readonly container_id?: unknown };
}

/** A file a container wrote to and left (rotated away or replaced by a restart), with its final size. */
interface LeftFile {
  readonly key: string;
  /** The agent's fingerprint of it: a checkpoint under the same key but another fingerprint is a reused inode's. */
  readonly fingerprint: string | undefined;
  readonly size: number;
}

interface Writer {
  readonly container: FakeContainer;
  readonly linesPerSecond: number;
  readonly startedAt: number;
  /** Lines written so far: the next seq. */
  seq: number;
  sinceRotation: number;
  rotationDue: boolean;
  left: LeftFile[];
  state: 'writing' | 'deleting' | 'deleted';
}

/** Per pod, how often each seq reached the index; grows as lines are written. */
class SeqCounts {
  readonly #counts = new Map<string, Uint8Array>();
  add(pod: string, seq: number): number {
    let a = this.#counts.get(pod);
    if (a === undefined || seq >= a.length) {
      const grown = new Uint8Array(Math.max(1024, (seq + 1) * 2));
      if (a !== undefined) grown.set(a);
      this.#counts.set(pod, (a = grown));
    }
    const n = a[seq] as number;
    if (n < 255) a[seq] = n + 1;
    return n + 1;
  }
  get(pod: string, seq: number): number {
    return this.#counts.get(pod)?.[seq] ?? 0;
  }
}

const PAD = 'x'.repeat(380);
const LONG_PAD = 'y'.repeat(20_000);
const SEQ_RE = /^seq=(\d+) t=(\d+) /;
const RANDOM_POD = 'random-bytes';
const TICK_MS = 100;
const SMALL_BODY_LIMIT = 64 * 1024;
const NORMAL_BODY_LIMIT = 100 * 1024 * 1024;

function fileStateOf(path: string): LeftFile {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    const head = Buffer.alloc(FINGERPRINT_BYTES);
    const n = readSync(fd, head, 0, FINGERPRINT_BYTES, 0);
    const key = fileKey(st.dev, st.ino);
    return { key, fingerprint: fingerprintOf(head.subarray(0, n), key), size: st.size };
  } finally {
    closeSync(fd);
  }
}

interface AgentCheckpoint {
  readonly offset: number;
  readonly fingerprint: string;
}

/** The agent's acknowledged offsets, from its checkpoint file (written atomically, so never torn). */
function readCheckpoints(stateDir: string): Map<string, AgentCheckpoint> {
  const checkpoints = new Map<string, AgentCheckpoint>();
  try {
    const doc = JSON.parse(readFileSync(join(stateDir, 'checkpoints.json'), 'utf8')) as { files?: Record<string, Partial<AgentCheckpoint>> };
    for (const [key, c] of Object.entries(doc.files ?? {})) {
      if (typeof c.offset === 'number' && typeof c.fingerprint === 'string') checkpoints.set(key, { offset: c.offset, fingerprint: c.fingerprint });
    }
  } catch {
    // not written yet
  }
  return checkpoints;
}

/**
 * The agent's self-log. With Elasticsearch as the output it is on the agent's stdout, which
 * AgentProcess keeps in `logs` (older versions of it parsed stdout into `records`): both are read.
 */
function selfLog(a: AgentProcess): Record<string, unknown>[] {
  return a.records.length === 0 ? a.logs : [...a.records, ...a.logs];
}

function formatOf(i: number): RuntimeFormat {
  return i % 10 === 9 ? 'docker' : i % 10 === 8 ? 'crio' : 'containerd';
}

export async function runSoak(options: SoakOptions = DEFAULT_SOAK_OPTIONS): Promise<SoakResult> {
  const o = options;
  const random = new SeededRandom(o.seed);
  const between = (lo: number, hi: number) => lo + random.next() * (hi - lo);
  const startedWall = Date.now();
  const say = o.progress ?? (() => {});

  // Delay from write to index: the fake calls `reject` once per item it is about to store (or answer
  // 409 for); the first call for a seq is the moment it is stored.
  // A document names its pod; when the agent shipped it without the pod's fields (see
  // SoakResult.withoutPodName) its container id or pod uid still tell which container wrote it.
  const podByIdentity = new Map<string, string>();
  let withoutPodName = 0;
  const withoutPodNameSamples: string[] = [];
  const podOf = (doc: SoakDocument): string => {
    const named = doc.kubernetes?.pod_name;
    if (typeof named === 'string') return named;
    return podByIdentity.get(String(doc.docker?.container_id)) ?? podByIdentity.get(String(doc.kubernetes?.pod_id)) ?? 'unknown';
  };
  const firstSeen = new SeqCounts();
  let stored = 0;
  let longestDelayMs = 0;
  const es: FakeElasticsearch = await startFakeElasticsearch({
    seed: o.seed,
    itemRejectRate: o.itemRejectRate,
    reject: (doc) => {
      const d = doc as SoakDocument;
      const m = typeof d.log === 'string' ? SEQ_RE.exec(d.log) : null;
      if (m === null) return false;
      if (firstSeen.add(podOf(d), Number(m[1])) === 1) {
        stored++;
        longestDelayMs = Math.max(longestDelayMs, Date.now() - Number(m[2]));
      }
      return false;
    },
  });
  const node = await FakeNode.create();
  const state = await tempStateDir();
  const writers: Writer[] = [];
  let agent: AgentProcess | undefined;
  let sampler: ProcessSampler | undefined;
  const ticks = ProcessSampler.clockTicksPerSecond();
  let peakRssBytes = 0;
  let restarts = 0;
  let crashes = 0;
  let lastExit: { code: number | null; signal: string | null } = { code: null, signal: null };

  const env = {
    NODETAIL_PATHS: node.paths,
    NODETAIL_STATE_DIR: state.dir,
    ELASTICSEARCH_URL: es.url,
    NODETAIL_RETRY_MAX_BACKOFF_MS: '1000',
    NODETAIL_REQUEST_TIMEOUT_MS: '10000',
    ...(o.maxOldSpaceMiB === undefined ? {} : { NODE_OPTIONS: `--max-old-space-size=${o.maxOldSpaceMiB}` }),
  };
  const agentWarnings: Record<string, number> = {};
  const crashReports: string[] = [];
  let agentNumber = 0;
  const notePeak = () => {
    if (o.agentLogFile !== undefined && agent !== undefined) {
      appendFileSync(o.agentLogFile, selfLog(agent).map((l) => `${JSON.stringify({ agent: agentNumber, ...l })}\n`).join(''));
    }
    for (const l of agent === undefined ? [] : selfLog(agent)) {
      if (l.level !== 'warn' && l.level !== 'error') continue;
      const key = `${String(l.level)}: ${String(l.msg)}`;
      agentWarnings[key] = (agentWarnings[key] ?? 0) + 1;
    }
    sampler?.sample();
    peakRssBytes = Math.max(peakRssBytes, sampler?.last?.peakRssBytes ?? 0, sampler?.maxSampledRssBytes ?? 0);
    sampler?.stop();
  };
  const startAgent = () => {
    agentNumber++;
    agent = new AgentProcess(env);
    const pid = agent.child.pid;
    sampler = pid === undefined ? undefined : new ProcessSampler(pid, ticks);
    sampler?.start(200);
  };
  const crashed = (a: AgentProcess) => {
    crashes++;
    const report = `agent ${agentNumber} exited by itself (${a.child.exitCode ?? a.child.signalCode}); last log lines: ${JSON.stringify(selfLog(a).slice(-5))}`;
    crashReports.push(report);
    say(report);
  };
  const started = (a: AgentProcess) => selfLog(a).some((l) => l.msg === 'nodetail started');

  const weightOf = (i: number) => (i < Math.ceil(o.containers / 10) ? 8 : 1);
  let weights = 0;
  for (let i = 0; i < o.containers; i++) weights += weightOf(i);
  const baseRate = o.linesPerSecond / weights;
  let podNumber = 0;
  const addWriter = (weight: number): Writer => {
    const i = podNumber++;
    const container = node.addContainer({ namespace: `soak-${i % 7}`, pod: `pod-${i}`, container: 'app', format: formatOf(i) });
    podByIdentity.set(container.spec.id, container.spec.pod).set(container.spec.uid, container.spec.pod);
    const w: Writer = { container, linesPerSecond: baseRate * weight, startedAt: Date.now(), seq: 0, sinceRotation: 0, rotationDue: false, left: [], state: 'writing' };
    writers.push(w);
    return w;
  };

  let rotations = 0;
  let deferredRotations = 0;
  let newPods = 0;
  let deletedPods = 0;
  let deletedPodLines = 0;
  let containerRestarts = 0;
  let randomBytesWritten = 0;
  let requests413 = 0;
  let refusedDuringOutage = false;
  let drained = false;

  try {
    for (let i = 0; i < o.containers; i++) addWriter(weightOf(i));
    const garbage = node.addContainer({ namespace: 'soak-bad', pod: RANDOM_POD, container: 'noise' });
    startAgent();
    await (agent as AgentProcess).waitFor('the agent to start', () => started(agent as AgentProcess), 30_000);

    const t0 = Date.now();
    const endAt = t0 + o.seconds * 1000;
    const at = (fraction: number) => t0 + fraction * o.seconds * 1000;
    const outageSeconds = Math.min(o.outageSeconds, o.seconds * 0.4);
    const outageAt = at(0.35);
    const outageEnd = outageAt + outageSeconds * 1000;
    // Random moments for the node's own events, in the middle of the run.
    const schedule = (n: number) => Array.from({ length: n }, () => between(at(0.05), at(0.85))).sort((a, b) => a - b);
    const newPodTimes = schedule(Math.max(2, Math.round(o.containers / 10)));
    const deleteTimes = schedule(Math.max(2, Math.round(o.containers / 20)));
    const restartTimes = schedule(Math.max(2, Math.round(o.containers / 10)));
    const garbageTimes = schedule(4);
    let nextKill = Date.now() + between(o.killEveryMs[0], o.killEveryMs[1]);
    let outage: 'before' | 'down' | 'small-limit' | 'done' = 'before';
    let checkpoints = new Map<string, AgentCheckpoint>();
    let lastCheckpointRead = 0;
    let lastProgress = Date.now();
    // Inodes are reused as soon as a file is deleted (gzipped rotations, deleted pods), and the agent
    // forgets a gone file's checkpoint only later: a checkpoint counts only with the file's fingerprint.
    const passed = (f: LeftFile) => {
      const c = checkpoints.get(f.key);
      return c !== undefined && f.fingerprint !== undefined && c.fingerprint === f.fingerprint && c.offset >= f.size;
    };
    const pick = (eligible: (w: Writer) => boolean): Writer | undefined => {
      const pool = writers.filter(eligible);
      return pool.length === 0 ? undefined : random.pick(pool);
    };

    while (Date.now() < endAt) {
      o.signal?.throwIfAborted();
      const now = Date.now();
      if (now - lastCheckpointRead >= 500) {
        checkpoints = readCheckpoints(state.dir);
        lastCheckpointRead = now;
      }

      // The writers.
      for (const w of writers) {
        if (w.state !== 'writing') continue;
        const due = Math.floor((w.linesPerSecond * (now - w.startedAt)) / 1000) - w.seq;
        if (due > 0) {
          const lines: string[] = [];
          for (let k = 0; k < due; k++) {
            const seq = w.seq + k;
            lines.push(`seq=${seq} t=${now} ${seq % 2000 === 1999 ? LONG_PAD : PAD}`);
          }
          w.container.write(lines);
          w.seq += due;
          for (const l of lines) w.sinceRotation += l.length + 60;
        }
        if (w.sinceRotation >= o.rotateBytes) {
          w.left = w.left.filter((f) => !passed(f));
          if (w.left.length === 0) {
            w.left.push(fileStateOf(w.container.logPath));
            w.container.rotate();
            rotations++;
            w.sinceRotation = 0;
            w.rotationDue = false;
          } else if (!w.rotationDue) {
            w.rotationDue = true;
            deferredRotations++;
          }
        }
      }

      // Pods being deleted go once the agent has acknowledged every line of them.
      for (const w of writers) {
        if (w.state !== 'deleting') continue;
        const current = fileStateOf(w.container.logPath);
        if (passed(current) && w.left.every(passed)) {
          w.container.remove();
          w.state = 'deleted';
          deletedPods++;
          deletedPodLines += w.seq;
        }
      }

      while (newPodTimes.length > 0 && (newPodTimes[0] as number) <= now) {
        newPodTimes.shift();
        addWriter(1);
        newPods++;
      }
      while (deleteTimes.length > 0 && (deleteTimes[0] as number) <= now) {
        deleteTimes.shift();
        const w = pick((x) => x.state === 'writing');
        if (w !== undefined) w.state = 'deleting';
      }
      while (restartTimes.length > 0 && (restartTimes[0] as number) <= now) {
        restartTimes.shift();
        // FakeContainer.restartContainer does not reopen docker's file: CRI containers only.
        const w = pick((x) => x.state === 'writing' && x.container.spec.format !== 'docker');
        if (w === undefined) continue;
        w.left.push(fileStateOf(w.container.logPath));
        w.container.restartContainer();
        w.sinceRotation = 0;
        containerRestarts++;
      }
      while (garbageTimes.length > 0 && (garbageTimes[0] as number) <= now) {
        garbageTimes.shift();
        const bytes = randomBytes(64 * 1024);
        garbage.writeRaw(bytes);
        randomBytesWritten += bytes.length;
      }

      // Elasticsearch: away for a while, then 413 to large requests until the first one was answered.
      if (outage === 'before' && now >= outageAt) {
        await es.down();
        outage = 'down';
        say(`outage: Elasticsearch down for ${outageSeconds} s`);
      } else if (outage === 'down' && now >= outageEnd) {
        refusedDuringOutage = true;
        es.configure({ maxBodyBytes: SMALL_BODY_LIMIT });
        await es.up();
        outage = 'small-limit';
        say('outage over: Elasticsearch back, answering 413 to the next request above 64 KiB');
      }
      if (outage === 'small-limit' && ((es.stats().requestStatuses[413] ?? 0) > 0 || now > outageEnd + 20_000)) {
        es.configure({ maxBodyBytes: NORMAL_BODY_LIMIT });
        outage = 'done';
      }

      // The agent: killed at random moments; an exit we did not cause is a crash.
      const a = agent as AgentProcess;
      if (a.child.exitCode !== null || a.child.signalCode !== null) {
        crashed(a);
        notePeak();
        startAgent();
      } else if (now >= nextKill) {
        await a.kill9();
        notePeak();
        restarts++;
        startAgent();
        nextKill = Date.now() + between(o.killEveryMs[0], o.killEveryMs[1]);
      }

      if (now - lastProgress >= 10_000) {
        lastProgress = now;
        const written = writers.reduce((n, w) => n + w.seq, 0);
        say(`t=${Math.round((now - t0) / 1000)}s written=${written} stored=${stored} restarts=${restarts} rotations=${rotations} deferred=${deferredRotations} peakRss=${Math.round(peakRssBytes / 1048576)}MiB`);
      }
      await sleep(Math.max(0, TICK_MS - (Date.now() - now)));
    }
    if (outage === 'down') {
      await es.up();
      refusedDuringOutage = true;
    }
    es.configure({ maxBodyBytes: NORMAL_BODY_LIMIT });

    // Drain: the last agent runs on; everything written must arrive.
    const linesWrittenNow = writers.reduce((n, w) => n + w.seq, 0);
    say(`writing stopped: ${linesWrittenNow} lines; waiting for the index`);
    const drainDeadline = Date.now() + o.drainTimeoutMs;
    while (Date.now() < drainDeadline) {
      o.signal?.throwIfAborted();
      const a = agent as AgentProcess;
      if (a.child.exitCode !== null || a.child.signalCode !== null) {
        crashed(a);
        notePeak();
        startAgent();
      }
      if (stored >= linesWrittenNow) {
        drained = true;
        break;
      }
      await sleep(200);
    }
    // Replays still in flight would show up as duplicates: give them a moment, then stop cleanly.
    await sleep(1000);
    const exit = await (agent as AgentProcess).stop();
    notePeak();
    lastExit = { code: exit.code, signal: exit.signal };
    requests413 = es.stats().requestStatuses[413] ?? 0;

    // The comparison, from the index itself.
    const counts = new SeqCounts();
    let documents = 0;
    let unexpected = 0;
    let randomBytesDocuments = 0;
    const unexpectedSamples: string[] = [];
    const writtenOf = new Map(writers.map((w) => [w.container.spec.pod, w.seq]));
    for (const { doc } of es.docs()) {
      documents++;
      const d = doc as SoakDocument;
      const pod = podOf(d);
      if (typeof d.kubernetes?.pod_name !== 'string') {
        withoutPodName++;
        if (withoutPodNameSamples.length < 3) withoutPodNameSamples.push(`${pod}: ${JSON.stringify({ ...d, log: String(d.log).slice(0, 30) })}`);
      }
      if (pod === RANDOM_POD) {
        randomBytesDocuments++;
        continue;
      }
      const m = typeof d.log === 'string' ? SEQ_RE.exec(d.log) : null;
      const seq = m === null ? -1 : Number(m[1]);
      if (m === null || seq >= (writtenOf.get(pod) ?? 0)) {
        unexpected++;
        if (unexpectedSamples.length < 10) unexpectedSamples.push(`${pod}: ${JSON.stringify(String(d.log).slice(0, 60))} (${String(d.log).length} chars)`);
        continue;
      }
      counts.add(pod, seq);
    }
    const deadLettered: Record<string, number> = {};
    const deadSeqs = new SeqCounts();
    let deadLetteredLines = 0;
    let deadText = '';
    try {
      deadText = readFileSync(join(state.dir, 'dead-letters.ndjson'), 'utf8');
    } catch {
      // none
    }
    for (const line of deadText.split('\n')) {
      if (line === '') continue;
      const l = JSON.parse(line) as { status: number; error: { type: string }; document: unknown };
      const reason = `${l.status} ${l.error.type}`;
      deadLettered[reason] = (deadLettered[reason] ?? 0) + 1;
      const d = l.document as SoakDocument | null;
      const m = typeof d?.log === 'string' ? SEQ_RE.exec(d.log) : null;
      if (m !== null && d !== null && deadSeqs.add(podOf(d), Number(m[1])) === 1) deadLetteredLines++;
    }
    let linesWritten = 0;
    let linesIndexed = 0;
    let missing = 0;
    let duplicated = 0;
    const missingRanges: string[] = [];
    for (const w of writers) {
      const pod = w.container.spec.pod;
      linesWritten += w.seq;
      for (let seq = 0; seq < w.seq; seq++) {
        const n = counts.get(pod, seq);
        if (n > 0) linesIndexed++;
        if (n > 1) duplicated++;
        if (n === 0 && deadSeqs.get(pod, seq) === 0) {
          missing++;
          const last = missingRanges.at(-1);
          const prefix = `${pod} (${w.container.spec.format}, ${w.state}) seq `;
          const m = last?.startsWith(prefix) ? /(\d+)-(\d+)$/.exec(last) : null;
          if (m !== null && m !== undefined && Number(m[2]) === seq - 1) missingRanges[missingRanges.length - 1] = `${prefix}${m[1]}-${seq}`;
          else if (missingRanges.length < 20) missingRanges.push(`${prefix}${seq}-${seq}`);
        }
      }
    }
    const stats = es.stats();
    const { progress: _progress, signal: _signal, ...shown } = o;
    return {
      options: shown,
      wallSeconds: (Date.now() - startedWall) / 1000,
      linesWritten,
      linesIndexed,
      missing,
      missingRanges,
      duplicated,
      unexpected,
      unexpectedSamples,
      withoutPodName,
      withoutPodNameSamples,
      documents,
      randomBytesDocuments,
      randomBytesWritten,
      deadLettered,
      deadLetteredLines,
      restarts,
      crashes,
      crashReports,
      peakRssBytes,
      agentWarnings,
      longestDelayMs,
      rotations,
      deferredRotations,
      newPods,
      deletedPods,
      deletedPodLines,
      deletionsNotDone: writers.filter((w) => w.state === 'deleting').length,
      containerRestarts,
      answers: { items429: stats.itemStatuses[429] ?? 0, items409: stats.itemStatuses[409] ?? 0, requests413, refusedDuringOutage },
      drained,
      lastExit,
    };
  } finally {
    sampler?.stop();
    await agent?.kill9();
    await es.close();
    await node.remove();
    await state.remove();
  }
}
