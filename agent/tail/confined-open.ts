import { constants, type Stats } from 'node:fs';
import { open, realpath, stat, statfs, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { NodetailError, ReadRefusedError } from '../core/errors.ts';
import { judgeRead, type ReadRules } from './read-rules.ts';

/**
 * Kernel pseudo filesystems (statfs f_type, from linux/magic.h): their "files" are regular to
 * stat, size 0, and look truncated at every poll (procfs, sysfs, cgroup, debugfs, tracefs,
 * securityfs, configfs, bpf, efivarfs, pstore).
 */
const PSEUDO_FS = new Set([0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x64626720, 0x74726163, 0x73636673, 0x62656570, 0xcafe4a11, 0xde5e81e4, 0x6165676c]);

/** Read-only; O_NONBLOCK and O_NOCTTY so that a file swapped for a FIFO or a terminal cannot block or take the agent. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

export interface ConfinedOpenOptions {
  /** The kubelet's and runtime's log folders (`container_log_roots`). */
  readonly logRoots: readonly string[];
  /** Files and folders never read: the state dir, the configuration, credentials. */
  readonly protectedPaths: readonly string[];
}

/** Opens matched paths for reading, only when `judgeRead` allows it. */
export interface ConfinedOpen {
  /** The open file, or a ReadRefusedError (else the file system's own error: ENOENT, ELOOP, EACCES). */
  open(path: string): Promise<FileHandle>;
}

/**
 * The one place log files are opened. The decision is made on the real path before anything
 * is opened (a refused file is never touched), and the descriptor is then checked to be the
 * very file judged (the same device and inode): a file or link swapped in between is not read.
 * (A folder on the real path swapped for a link in the instant between realpath and stat is
 * not caught; the real path of a followed link lies in the root-owned log roots.)
 */
export function createConfinedOpen(options: ConfinedOpenOptions): ConfinedOpen {
  // Resolved once, and again when a link is about to be refused: a root may appear after the
  // start (docker's folder on a node that switches runtime) or be a link itself (`/var/lib/docker`
  // moved to a data disk).
  let rules: Promise<ReadRules> | undefined;
  const resolveRules = async (): Promise<ReadRules> => ({
    logRoots: await resolveAll(options.logRoots),
    protectedPaths: await resolveAll(options.protectedPaths),
  });

  const judge = async (path: string, real: string): Promise<{ refusal: ReturnType<typeof judgeRead>; st: Stats }> => {
    const [st, fs, dir] = await Promise.all([stat(real), statfs(real), realpath(dirname(path))]);
    const opened = { matched: path, direct: join(dir, basename(path)), real, regular: st.isFile(), pseudo: PSEUDO_FS.has(fs.type) };
    rules ??= resolveRules();
    let refusal = judgeRead(opened, await rules);
    if (refusal === 'outside_log_roots') {
      rules = resolveRules();
      refusal = judgeRead(opened, await rules);
    }
    return { refusal, st };
  };

  return {
    async open(path) {
      const absolute = resolve(path);
      const real = await realpath(absolute);
      const { refusal, st: judged } = await judge(absolute, real);
      if (refusal !== undefined) throw new ReadRefusedError(absolute, real, refusal);
      const fh = await open(real, OPEN_FLAGS);
      try {
        const st = await fh.stat();
        if (!st.isFile() || st.dev !== judged.dev || st.ino !== judged.ino) throw new NodetailError('ENOENT', `${real} was replaced while it was opened: read at the next scan`);
        return fh;
      } catch (err) {
        await fh.close().catch(() => {});
        throw err;
      }
    },
  };
}

/** Each path and, when it exists, its real path (both, so that either spelling matches). */
async function resolveAll(paths: readonly string[]): Promise<string[]> {
  const all = new Set<string>();
  for (const path of paths) {
    all.add(resolve(path));
    all.add(await realpath(path).catch(() => resolve(path)));
  }
  return [...all];
}
