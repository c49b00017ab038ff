import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LogLineGenerator } from './log-line-generator.ts';

/**
 * Builds a node's log tree the way kubelet lays it out:
 * `<root>/var/log/pods/<ns>_<pod>_<uid>/<container>/0.log`, and for each file an absolute
 * symlink `<root>/var/log/containers/<pod>_<ns>_<container>-<64 hex id>.log`.
 * Deterministic for a given seed, so two runs read the same bytes.
 */

export interface NodeTreeFile {
  /** The `/var/log/containers` link, what the agent is configured to read. */
  readonly link: string;
  /** The `0.log` the link points to, where lines are appended. */
  readonly path: string;
}

export interface NodeTree {
  readonly root: string;
  /** `<root>/var/log/containers/*.log`, the agent's NODETAIL_PATHS. */
  readonly containersGlob: string;
  readonly containersDir: string;
  readonly files: readonly NodeTreeFile[];
  /** Logical records, each with a distinct `seq=` in `[seqBase, seqBase + records)`. */
  readonly records: number;
  /** Physical lines: records plus the extra `P` parts of long ones. */
  readonly physicalLines: number;
  readonly bytes: number;
}

export interface NodeTreeOptions {
  readonly root: string;
  readonly records: number;
  readonly containers: number;
  readonly seed?: number;
  readonly seqBase?: number;
  /** Round-robin over the files instead of a few chatty containers and many quiet ones. */
  readonly evenly?: boolean;
}

const NAMESPACES = ['shop', 'payments', 'kube-system', 'monitoring', 'ingress-nginx', 'default'];
const APPS = ['checkout', 'cart', 'payments-api', 'orders', 'catalog', 'search', 'auth', 'gateway', 'coredns', 'node-exporter', 'ingress-controller', 'redis'];
const CONTAINERS = ['app', 'app', 'app', 'sidecar', 'envoy', 'metrics'];
/** 2026-11-22T10:00:00Z */
const START_SECONDS = 1_795_341_600;
/** Flush a file's pending text past this size: few syscalls, bounded memory. */
const FLUSH_CHARS = 256 * 1024;

export async function makeNodeTree(options: NodeTreeOptions): Promise<NodeTree> {
  const generator = new LogLineGenerator(options.seed ?? 1);
  const containersDir = join(options.root, 'var', 'log', 'containers');
  await mkdir(containersDir, { recursive: true });

  const files: NodeTreeFile[] = [];
  for (let i = 0; i < options.containers; i++) {
    const namespace = NAMESPACES[i % NAMESPACES.length] as string;
    const app = APPS[i % APPS.length] as string;
    const pod = `${app}-${generator.hex(9)}-${generator.hex(5)}`;
    const uid = `${generator.hex(8)}-${generator.hex(4)}-${generator.hex(4)}-${generator.hex(4)}-${generator.hex(12)}`;
    const container = CONTAINERS[i % CONTAINERS.length] as string;
    const dir = join(options.root, 'var', 'log', 'pods', `${namespace}_${pod}_${uid}`, container);
    await mkdir(dir, { recursive: true });
    const path = join(dir, '0.log');
    const link = join(containersDir, `${pod}_${namespace}_${container}-${generator.hex(64)}.log`);
    closeSync(openSync(path, 'w', 0o640));
    await symlink(path, link);
    files.push({ link, path });
  }

  const pick = options.evenly === true ? (seq: number) => seq % files.length : skewedPicker(generator, files.length);
  const fds = files.map((file) => openSync(file.path, 'a'));
  const pending: string[][] = files.map(() => []);
  const pendingChars = new Array<number>(files.length).fill(0);
  const seqBase = options.seqBase ?? 0;
  let physicalLines = 0;
  try {
    for (let n = 0; n < options.records; n++) {
      // About 20 µs apart, so 2,000,000 records span 40 s of log time.
      const nanos = n * 20_000 + generator.int(20_000);
      const timestamp = generator.timestamp(START_SECONDS + Math.floor(nanos / 1e9), nanos % 1e9);
      const record = generator.record(seqBase + n, timestamp);
      physicalLines += record.physicalLines;
      const f = pick(n);
      const parts = pending[f] as string[];
      parts.push(record.text);
      pendingChars[f] = (pendingChars[f] as number) + record.text.length;
      if ((pendingChars[f] as number) >= FLUSH_CHARS) {
        writeSync(fds[f] as number, parts.join(''));
        parts.length = 0;
        pendingChars[f] = 0;
      }
    }
    for (let f = 0; f < files.length; f++) {
      const parts = pending[f] as string[];
      if (parts.length > 0) writeSync(fds[f] as number, parts.join(''));
    }
  } finally {
    for (const fd of fds) closeSync(fd);
  }

  let bytes = 0;
  for (const file of files) bytes += statSync(file.path).size;
  return {
    root: options.root,
    containersGlob: join(containersDir, '*.log'),
    containersDir,
    files,
    records: options.records,
    physicalLines,
    bytes,
  };
}

/**
 * A Zipf-like spread: on a real node a few containers write most of the lines. A lookup
 * table keeps the pick O(1); every container gets at least one slot.
 */
function skewedPicker(generator: LogLineGenerator, count: number): (seq: number) => number {
  const weights = Array.from({ length: count }, (_, i) => 1 / (i + 1) ** 0.8);
  const total = weights.reduce((a, b) => a + b, 0);
  const slots: number[] = [];
  weights.forEach((weight, i) => {
    const n = Math.max(1, Math.round((weight / total) * 4096));
    for (let k = 0; k < n; k++) slots.push(i);
  });
  const table = Uint16Array.from(slots);
  return () => table[generator.int(table.length)] as number;
}
