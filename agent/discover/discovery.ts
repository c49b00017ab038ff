import { watch as watchFolder, type FSWatcher as FolderWatcher } from 'node:fs';
import { glob, realpath } from 'node:fs/promises';
import { join, matchesGlob } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Log } from '../core/log.ts';
import { RootPoll } from './root-poll.ts';

export interface DiscoveryOptions {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly rescanIntervalMs: number;
  /** How often the globs' root folders are looked at for new or removed entries (see RootPoll). */
  readonly rootPollIntervalMs: number;
  readonly log: Log;
  /** Every path that matches now. `initial` on the first scan after start. */
  readonly onPaths: (paths: string[], initial: boolean) => Promise<void>;
  /** A watch event says the file at this path changed. */
  readonly onChange: (path: string) => void;
  /** Directories of the files being read, watched too: symlinked files live outside the globs' roots. */
  readonly directories: () => Iterable<string>;
}

/**
 * Which files to read: the include globs minus the exclude globs. The truth is a periodic
 * rescan, brought forward whenever a root folder's entries change (RootPoll, a stat per root a
 * few times a second, events or not); chokidar's events (the one place chokidar is used) only
 * make things faster: an add or unlink triggers a rescan at once, a change wakes the file's
 * reader. A lost event (inotify limits on busy nodes) costs latency, never data.
 */
export class Discovery {
  readonly #o: DiscoveryOptions;
  #watcher: FSWatcher | undefined;
  #roots: RootPoll | undefined;
  /** The last (re)arming of the root watches: one at a time, so none is left unclosed. */
  #arming: Promise<void> = Promise.resolve();
  readonly #warned = new Set<string>();
  /** Folder watches are not tried again before this (the kernel refused one for lack of instances or watches). */
  #watchesRefusedUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #again = false;
  readonly #folderWatchers = new Map<string, FolderWatcher>();
  #stopped = false;

  constructor(options: DiscoveryOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    await this.#scan(true);
    this.#timer = setInterval(() => void this.rescan(), this.#o.rescanIntervalMs);
    this.#timer.unref();
    const roots = [...new Set(this.#o.include.map((p) => staticRoot(p).dir))];
    this.#roots = new RootPoll({
      dirs: roots,
      intervalMs: this.#o.rootPollIntervalMs,
      onChange: () => this.rescanSoon(),
      // Removed and recreated, or a link retargeted: the watches point at the old folder.
      onReplaced: () => {
        this.rescanSoon();
        this.#arming = this.#arming.then(() => this.#watchRoots(roots));
      },
    });
    await this.#roots.start();
    this.#arming = this.#watchRoots(roots);
    await this.#arming;
    this.#watchDirectories();
  }

  /**
   * Watches the roots by their real paths: inotify gives no events for a root that is a link (a
   * /var/log/containers on another disk), and none for a folder that replaced the one watched.
   */
  async #watchRoots(roots: readonly string[]): Promise<void> {
    const real = await Promise.all(roots.map((dir) => realpath(dir).catch(() => dir)));
    if (this.#stopped) return;
    const old = this.#watcher;
    this.#watcher = undefined;
    await old?.close();
    const depths = this.#o.include.map((p) => staticRoot(p).depth);
    const depth = depths.includes(undefined) ? undefined : Math.max(0, ...(depths as number[]));
    // Events wanted: files and links appearing or going (a new container's link, a rotated name in
    // a pod's folder). Not wanted: one per write, which chokidar resolves through symlinks with
    // lstat and realpath (most of a core at 10,000 lines/s). So links are not followed, and the
    // live container logs (N.log, <id>-json.log) are ignored by name, with no stat; their writes
    // are seen by the plain watches on their folders (#watchDirectories) and by the tail's poll.
    const watcher = watch([...new Set(real)], { ignoreInitial: true, persistent: false, followSymlinks: false, ignored: isLiveContainerLog, ...(depth === undefined ? {} : { depth }) });
    this.#watcher = watcher;
    const soon = () => this.rescanSoon();
    watcher.on('add', soon).on('unlink', soon).on('addDir', soon).on('unlinkDir', soon);
    watcher.on('change', (path: string) => this.#o.onChange(path));
    watcher.on('error', (err: unknown) => this.#watchFailed(err));
  }

  /** Said once per reason: what is found without watch events, and how soon. */
  #watchFailed(err: unknown): void {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    if (this.#warned.has(reason)) return;
    this.#warned.add(reason);
    const hint = reason === 'ENOSPC' ? ' (raise fs.inotify.max_user_watches)' : reason === 'EMFILE' ? ' (raise fs.inotify.max_user_instances)' : '';
    this.#o.log.warn({ reason, rootPollMs: this.#o.rootPollIntervalMs }, `file watches cannot be set up${hint}: files are found by polling alone (new files within rootPollMs, rotations at the next poll of the file); nothing is lost`);
  }

  /** Scans again (coalescing calls that come while a scan runs). */
  async rescan(): Promise<void> {
    if (this.#stopped) return;
    if (this.#scanning !== undefined) {
      this.#again = true;
      return this.#scanning;
    }
    await this.#scan(false);
    if (this.#again) {
      this.#again = false;
      await this.rescan();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
    this.#roots?.stop();
    for (const watcher of this.#folderWatchers.values()) watcher.close();
    this.#folderWatchers.clear();
    await this.#arming;
    await this.#watcher?.close();
  }

  /** The matching paths, sorted. */
  async scan(): Promise<string[]> {
    const found = new Set<string>();
    for await (const path of glob([...this.#o.include])) {
      if (!this.#o.exclude.some((pattern) => matchesGlob(path, pattern))) found.add(path);
    }
    return [...found].sort();
  }

  /**
   * Watches the folders that hold the files being read (/var/log/pods/..., docker's) with one
   * plain fs.watch each: a write is one event and a map lookup (chokidar's handling resolves every
   * event through symlinks, most of a core at 10,000 lines/s), and a rename or create (rotation,
   * a restarted container) triggers a rescan at once. A folder that cannot be watched is polled.
   */
  #watchDirectories(): void {
    if (this.#stopped) return;
    const now = new Set(this.#o.directories());
    for (const [dir, watcher] of this.#folderWatchers) {
      if (now.has(dir)) continue;
      watcher.close();
      this.#folderWatchers.delete(dir);
    }
    // Out of inotify instances or watches: trying every folder again at every scan costs a failed
    // call each (thousands on a busy node, several scans a second while pods come and go).
    if (Date.now() < this.#watchesRefusedUntil) return;
    for (const dir of now) {
      if (this.#folderWatchers.has(dir)) continue;
      try {
        const watcher = watchFolder(dir, { persistent: false }, (event, name) => {
          if (event === 'rename' || name === null) this.rescanSoon();
          else this.#o.onChange(join(dir, name));
        });
        watcher.on('error', () => {
          watcher.close();
          this.#folderWatchers.delete(dir);
        });
        this.#folderWatchers.set(dir, watcher);
      } catch (err) {
        // inotify limits, a folder gone meanwhile: the poll and the rescans cover it
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        this.#watchFailed(err);
        if (code === 'EMFILE' || code === 'ENOSPC') {
          this.#watchesRefusedUntil = Date.now() + this.#o.rescanIntervalMs;
          return;
        }
      }
    }
  }

  /** Rescans shortly, coalescing a burst of events or of rotations seen by the tail's poll. */
  rescanSoon(): void {
    if (this.#debounce !== undefined || this.#stopped) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.rescan();
    }, 50);
    this.#debounce.unref();
  }

  async #scan(initial: boolean): Promise<void> {
    this.#scanning = (async () => {
      try {
        await this.#o.onPaths(await this.scan(), initial);
        this.#watchDirectories();
      } catch (err) {
        this.#o.log.error({ reason: String(err) }, 'file discovery failed: retrying at the next rescan');
      }
    })();
    try {
      await this.#scanning;
    } finally {
      this.#scanning = undefined;
    }
  }
}

/** A container log being written (`/var/log/pods/.../N.log`, docker's `<id>-json.log`): no watch events wanted. */
function isLiveContainerLog(path: string): boolean {
  return /\/pods\/[^/]+\/[^/]+\/\d+\.log$/.test(path) || /\/containers\/[0-9a-f]{64}\/[0-9a-f]{64}-json\.log$/.test(path);
}

/**
 * The directory part of a glob before its first wildcard (what chokidar watches) and how many
 * directory levels below it the pattern reaches (undefined for `**`).
 */
function staticRoot(pattern: string): { dir: string; depth: number | undefined } {
  const parts = pattern.split('/');
  const found = parts.findIndex((p) => /[*?[\]{}]/.test(p));
  const at = found < 0 ? parts.length - 1 : found;
  const dir = parts.slice(0, at).join('/') || '/';
  return { dir, depth: pattern.includes('**') ? undefined : parts.length - 1 - at };
}
