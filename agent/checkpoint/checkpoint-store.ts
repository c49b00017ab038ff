import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Log } from '../core/log.ts';

/** One file's checkpoint: where to resume, and how to recognise the file. */
export interface Checkpoint {
  /** Everything before it is acknowledged by the output. */
  readonly offset: number;
  /** The file's fingerprint: an inode holding other content does not match. */
  readonly fingerprint: string;
  /**
   * How many times the file was truncated and written again (copytruncate) under this inode:
   * part of the `_id` prefix, so new content at old offsets never takes the ids of the old.
   * Written only when above 0; absent (0) in older files.
   */
  readonly generation?: number;
  /** Where the file was last seen (to find it again after a rename). */
  readonly path: string;
  /**
   * The path discovery matched (a /var/log/containers link): its name holds the namespace, pod
   * and container, which a rotated docker file's own path does not. Absent in older files.
   */
  readonly matchedPath?: string;
}

const VERSION = 1;
const FILE = 'checkpoints.json';

/**
 * A checkpoint is about 250 bytes: this is hundreds of thousands of files. Larger is garbage,
 * and reading it whole would cost the memory of the pod (a string cannot even hold 600 MiB).
 */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/**
 * The checkpoints of every file, by file key (`<dev>:<ino>`), persisted as versioned JSON:
 * written to a temporary file, fsynced, renamed over the old one, and the directory fsynced,
 * so a crash at any instant leaves either the old or the new file, never a torn one.
 *
 * Corruption policy: a file that is not valid JSON of a known version, or cannot be read at all
 * (a directory in its place, an I/O error, larger than any real one), is moved aside to
 * `checkpoints.json.corrupt-<time>`, logged as an error, and the agent starts as if there were
 * no checkpoints but reads every file from its head; with deterministic `_id`s the replay is
 * answered 409 by Elasticsearch, so nothing is lost and nothing is indexed twice.
 */
export class CheckpointStore {
  readonly #dir: string;
  readonly #log: Log;
  #entries = new Map<string, Checkpoint>();
  #dirty = false;
  #writing: Promise<void> | undefined;

  /** Set by `load`: there was no usable checkpoint file (first start, or a corrupt one). */
  fresh = true;
  /** Set by `load`: the checkpoint file was corrupt and moved aside. */
  recovered = false;

  constructor(dir: string, log: Log) {
    this.#dir = dir;
    this.#log = log;
  }

  get path(): string {
    return join(this.#dir, FILE);
  }

  async load(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    let text: string;
    try {
      text = await readBounded(this.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // Not readable at all (a directory in its place, an I/O error, far too large): the same
      // policy as a corrupt file, never a crash at every start.
      await this.#moveAside(code ?? String(err));
      return;
    }
    const parsed = parse(text);
    if (parsed === undefined) {
      await this.#moveAside('invalid');
      return;
    }
    this.#entries = parsed;
    this.fresh = false;
  }

  async #moveAside(reason: string): Promise<void> {
    this.recovered = true;
    const aside = `${this.path}.corrupt-${new Date().toISOString().replaceAll(':', '')}`;
    try {
      await rename(this.path, aside);
    } catch (err) {
      // Then the next writes fail too, and /readyz says so: still no reason to stop shipping.
      this.#log.error({ path: this.path, reason, renameError: (err as NodeJS.ErrnoException).code ?? String(err) }, 'checkpoint file is corrupt or unreadable and cannot be moved aside: every file is read again from its head');
      return;
    }
    this.#log.error({ path: this.path, reason, movedTo: aside }, 'checkpoint file is corrupt or unreadable: moved aside; every file is read again from its head (deterministic ids keep the index free of duplicates)');
  }

  get(key: string): Checkpoint | undefined {
    return this.#entries.get(key);
  }

  entries(): IterableIterator<[string, Checkpoint]> {
    return this.#entries.entries();
  }

  set(key: string, checkpoint: Checkpoint): void {
    const old = this.#entries.get(key);
    if (old !== undefined && old.offset === checkpoint.offset && old.path === checkpoint.path && old.fingerprint === checkpoint.fingerprint && old.generation === checkpoint.generation && old.matchedPath === checkpoint.matchedPath) return;
    this.#entries.set(key, checkpoint);
    this.#dirty = true;
  }

  delete(key: string): void {
    if (this.#entries.delete(key)) this.#dirty = true;
  }

  /** Writes the checkpoints if they changed (true when it wrote). Throws on I/O errors. */
  async flush(): Promise<boolean> {
    while (this.#writing !== undefined) await this.#writing;
    if (!this.#dirty) return false;
    this.#dirty = false;
    const files: Record<string, Checkpoint> = Object.fromEntries(this.#entries);
    const text = JSON.stringify({ version: VERSION, files });
    this.#writing = this.#write(text);
    try {
      await this.#writing;
      return true;
    } catch (err) {
      this.#dirty = true;
      throw err;
    } finally {
      this.#writing = undefined;
    }
  }

  async #write(text: string): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    const dir = await open(this.#dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

/** The file's text; EFBIG when it is larger than any real checkpoint file, EISDIR when not a file. */
async function readBounded(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a file`), { code: st.isDirectory() ? 'EISDIR' : 'EINVAL' });
    if (st.size > MAX_FILE_BYTES) throw Object.assign(new Error(`${path} is ${st.size} bytes`), { code: 'EFBIG' });
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

function parse(text: string): Map<string, Checkpoint> | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || (doc as { version?: unknown }).version !== VERSION) return undefined;
  const files = (doc as { files?: unknown }).files;
  if (typeof files !== 'object' || files === null) return undefined;
  const entries = new Map<string, Checkpoint>();
  for (const [key, value] of Object.entries(files)) {
    if (typeof value !== 'object' || value === null) return undefined;
    const c = value as Partial<Checkpoint>;
    if (typeof c.offset !== 'number' || !Number.isSafeInteger(c.offset) || c.offset < 0 || typeof c.fingerprint !== 'string' || typeof c.path !== 'string') return undefined;
    if (c.matchedPath !== undefined && typeof c.matchedPath !== 'string') return undefined;
    if (c.generation !== undefined && (!Number.isSafeInteger(c.generation) || c.generation < 1)) return undefined;
    entries.set(key, {
      offset: c.offset,
      fingerprint: c.fingerprint,
      path: c.path,
      ...(c.generation === undefined ? {} : { generation: c.generation }),
      ...(c.matchedPath === undefined ? {} : { matchedPath: c.matchedPath }),
    });
  }
  return entries;
}
