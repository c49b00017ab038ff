import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes, randomUUID } from 'node:crypto';

/** How a container runtime writes lines: containerd and CRI-O write CRI, docker json-file. */
export type RuntimeFormat = 'containerd' | 'crio' | 'docker';

export interface ContainerSpec {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly format?: RuntimeFormat;
  readonly uid?: string;
  readonly id?: string;
}

/** The largest CRI partial / docker chunk a runtime writes (containerd's default, docker's 16 KiB). */
export const SPLIT_BYTES = 16384;

/**
 * A container writing its log the way the kubelet lays it out:
 *   <root>/var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log
 *   <root>/var/log/containers/<pod>_<ns>_<container>-<id>.log  ->  (absolute symlink) the file above
 * and for docker one more hop: the pods file is a link to /var/lib/docker/containers/<id>/<id>-json.log.
 * The descriptor stays open across a rotation, like the runtime's, until it reopens.
 */
export class FakeContainer {
  readonly spec: Required<ContainerSpec>;
  readonly node: FakeNode;
  restart = 0;
  #fd = -1;
  #rotations = 0;
  written = 0;

  constructor(node: FakeNode, spec: ContainerSpec) {
    this.node = node;
    this.spec = { format: 'containerd', uid: randomUUID(), id: randomBytes(32).toString('hex'), ...spec };
    this.#create();
  }

  get podDir(): string {
    const { namespace, pod, uid, container } = this.spec;
    return join(this.node.root, 'var/log/pods', `${namespace}_${pod}_${uid}`, container);
  }

  /** The file the runtime writes to. */
  get logPath(): string {
    const { format, id } = this.spec;
    return format === 'docker' ? join(this.node.root, 'var/lib/docker/containers', id, `${id}-json.log`) : join(this.podDir, `${this.restart}.log`);
  }

  get linkPath(): string {
    const { namespace, pod, container, id } = this.spec;
    return join(this.node.root, 'var/log/containers', `${pod}_${namespace}_${container}-${id}.log`);
  }

  /** Writes each message as one log entry (split into partials when long), at `time`. */
  write(messages: readonly string[], stream: 'stdout' | 'stderr' = 'stdout', time = new Date()): void {
    let text = '';
    for (const message of messages) text += formatEntry(this.spec.format, message, stream, time);
    writeSync(this.#fd, text);
    this.written += messages.length;
  }

  /** Raw bytes, as they are, for bad-input tests. */
  writeRaw(bytes: string | Buffer): void {
    writeSync(this.#fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  }

  /**
   * kubelet rotation (kubelet's container log manager): gzip older rotated files, rename N.log to
   * N.log.<YYYYMMDD-hhmmss>, the runtime reopens a new N.log; keep `maxFiles` files.
   * docker: x-json.log -> .1 -> .2 ...
   */
  rotate(maxFiles = 5): void {
    this.#rotations++;
    if (this.spec.format === 'docker') {
      const base = this.logPath;
      for (let i = maxFiles - 1; i >= 1; i--) {
        try {
          renameSync(`${base}.${i}`, `${base}.${i + 1}`);
        } catch {
          // not there yet
        }
      }
      renameSync(base, `${base}.1`);
    } else {
      const dir = this.podDir;
      const rotated = readdirSync(dir).filter((n) => n.startsWith(`${this.restart}.log.`)).sort();
      for (const name of rotated) {
        if (name.endsWith('.gz')) continue;
        const path = join(dir, name);
        writeFileSync(`${path}.gz`, gzipSync(readFileSync(path)));
        unlinkSync(path);
      }
      const all = readdirSync(dir).filter((n) => n.startsWith(`${this.restart}.log.`)).sort();
      for (const name of all.slice(0, Math.max(0, all.length - (maxFiles - 2)))) unlinkSync(join(dir, name));
      renameSync(this.logPath, `${this.logPath}.${stamp(this.#rotations)}`);
    }
    closeSync(this.#fd);
    this.#fd = openSync(this.logPath, 'a');
  }

  /** The container restarts: a new `<n+1>.log` and the containers link moved to it. */
  restartContainer(): void {
    closeSync(this.#fd);
    this.#fd = -1;
    this.restart++;
    this.#create();
  }

  /** The pod is gone: its files and links are removed (kubelet garbage collection). */
  remove(): void {
    closeSync(this.#fd);
    this.#fd = -1;
    rmSync(this.linkPath, { force: true });
    rmSync(join(this.podDir, '..'), { recursive: true, force: true });
    if (this.spec.format === 'docker') rmSync(join(this.logPath, '..'), { recursive: true, force: true });
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  #create(): void {
    mkdirSync(this.podDir, { recursive: true });
    mkdirSync(join(this.node.root, 'var/log/containers'), { recursive: true });
    const podFile = join(this.podDir, `${this.restart}.log`);
    if (this.spec.format === 'docker') {
      mkdirSync(join(this.logPath, '..'), { recursive: true });
      if (this.#fd < 0) this.#fd = openSync(this.logPath, 'a');
      rmSync(podFile, { force: true });
      symlinkSync(this.logPath, podFile);
    } else {
      this.#fd = openSync(podFile, 'a');
    }
    rmSync(this.linkPath, { force: true });
    symlinkSync(podFile, this.linkPath);
  }
}

/** A host log under <root>/var/log, written with plain lines. */
export class FakeHostLog {
  readonly path: string;
  #fd: number;
  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'a');
  }
  write(lines: readonly string[]): void {
    writeSync(this.#fd, lines.map((l) => l + '\n').join(''));
  }
  close(): void {
    closeSync(this.#fd);
  }
}

/** A node's log tree under a temporary root. */
export class FakeNode {
  readonly root: string;
  readonly containers: FakeContainer[] = [];
  readonly hostLogs: FakeHostLog[] = [];

  private constructor(root: string) {
    this.root = root;
    mkdirSync(join(root, 'var/log/containers'), { recursive: true });
    mkdirSync(join(root, 'var/log/pods'), { recursive: true });
  }

  static async create(): Promise<FakeNode> {
    return new FakeNode(await mkdtemp(join(tmpdir(), 'nodetail-node-')));
  }

  /** The include globs the agent is given for this node. */
  get paths(): string {
    return [`${this.root}/var/log/containers/*.log`, `${this.root}/var/log/*.log`].join(',');
  }

  addContainer(spec: ContainerSpec): FakeContainer {
    const c = new FakeContainer(this, spec);
    this.containers.push(c);
    return c;
  }

  addHostLog(name: string): FakeHostLog {
    const h = new FakeHostLog(join(this.root, 'var/log', name));
    this.hostLogs.push(h);
    return h;
  }

  async remove(): Promise<void> {
    for (const c of this.containers) c.close();
    for (const h of this.hostLogs) h.close();
    await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * The agent's default `container_log_roots` (`/var/log/pods`, `/var/lib/docker/containers`) below
 * the root of each fake node that the comma-separated globs `paths` read from.
 */
export function logRootsFor(paths: string): string {
  const roots = new Set<string>();
  for (const path of paths.split(',')) {
    const at = path.indexOf('/var/log/');
    if (at < 0) continue;
    const root = path.slice(0, at);
    roots.add(`${root}/var/log/pods`).add(`${root}/var/lib/docker/containers`);
  }
  return [...roots].join(',');
}

/** One log entry in a runtime's format, with partial lines for long messages. */
export function formatEntry(format: RuntimeFormat, message: string, stream: 'stdout' | 'stderr', time: Date): string {
  const bytes = Buffer.from(message);
  const parts: string[] = [];
  for (let i = 0; i < bytes.length || parts.length === 0; i += SPLIT_BYTES) parts.push(cutUtf8(bytes, i, i + SPLIT_BYTES));
  if (format === 'docker') {
    const ts = time.toISOString().replace('Z', '123456Z');
    return parts.map((p, i) => JSON.stringify({ log: i === parts.length - 1 ? p + '\n' : p, stream, time: ts }) + '\n').join('');
  }
  const ts = format === 'crio' ? time.toISOString().replace('Z', '123456+00:00') : time.toISOString().replace(/\.?0*Z$/, 'Z');
  return parts.map((p, i) => `${ts} ${stream} ${i === parts.length - 1 ? 'F' : 'P'} ${p}\n`).join('');
}

/** bytes[from, to) as a string, the bounds moved back to UTF-8 character starts. */
function cutUtf8(bytes: Buffer, from: number, to: number): string {
  const start = (i: number) => {
    while (i > 0 && i < bytes.length && ((bytes[i] as number) & 0xc0) === 0x80) i--;
    return Math.min(i, bytes.length);
  };
  return bytes.toString('utf8', start(from), start(to));
}

function stamp(n: number): string {
  // Unique per rotation even within one second, in the kubelet's YYYYMMDD-hhmmss shape.
  const d = new Date(Date.UTC(2026, 0, 1) + n * 1000);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
