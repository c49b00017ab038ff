import { sep } from 'node:path';
import type { ReadRefusal } from '../core/errors.ts';

export interface ReadRules {
  /**
   * Real paths (links resolved) of the kubelet's and the runtime's log folders: a path that is,
   * or goes through, a symbolic link is read only when the link ends below one of them.
   */
  readonly logRoots: readonly string[];
  /**
   * Real paths never read whatever matched them: the agent's own state, its configuration and
   * credentials (a link to them would ship them to Elasticsearch).
   */
  readonly protectedPaths: readonly string[];
}

/** What is known of one matched path once it is open. */
export interface OpenedPath {
  /** The path discovery matched, absolute. */
  readonly matched: string;
  /** The matched path with only its folders resolved: where the file is when it is no link itself. */
  readonly direct: string;
  /** Where the open descriptor really points (every link resolved). */
  readonly real: string;
  /** The descriptor is a regular file (not a FIFO, socket, device or folder). */
  readonly regular: boolean;
  /** It lives on a kernel pseudo filesystem (procfs, sysfs...): its "files" are not logs. */
  readonly pseudo: boolean;
}

/**
 * Whether an opened path may be read: a pure decision, so that each rule is tested on its own.
 *
 * A file matched directly by a glob is read where it is (the operator chose the glob). A link
 * (`/var/log/containers/*.log`, or a link dropped under a host glob such as `/var/log/*.log`) is
 * followed only into the log roots: anyone able to write into a hostPath over `/var/log` could
 * otherwise make the agent ship any file it can read, `/proc/self/environ` and its credentials
 * included, labelled as the pod the link's name claims.
 */
export function judgeRead(opened: OpenedPath, rules: ReadRules): ReadRefusal | undefined {
  if (!opened.regular || opened.pseudo) return 'special_file';
  if (rules.protectedPaths.some((p) => isWithin(opened.real, p))) return 'protected_path';
  if (opened.real === opened.direct) return undefined;
  return rules.logRoots.some((root) => isWithin(opened.real, root)) ? undefined : 'outside_log_roots';
}

/** `path` is `dir` itself or below it (whole path components only: `/var/log/pods2` is not below `/var/log/pods`). */
export function isWithin(path: string, dir: string): boolean {
  if (path === dir) return true;
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  return path.startsWith(prefix);
}
