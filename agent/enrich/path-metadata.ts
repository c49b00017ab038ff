import { basename } from 'node:path';
import type { PathMetadata, SourceKind } from '../core/record.ts';

/**
 * What a container log's path says about its pod, in the kubelet's two layouts:
 * `/var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log` and the links
 * `/var/log/containers/<pod>_<ns>_<container>-<id>.log`. Namespace and pod names never contain
 * `_`, so `_` separates them safely. Patterns match the end of a path, so
 * a node tree mounted under another root (tests, benchmarks) parses the same.
 *
 * kubelet: pkg/kubelet/kuberuntime/helpers.go (pods), legacy.go (containers links).
 */

// /var/log/containers/<pod>_<ns>_<container>-<id>.log; the id may be cut at the 255-byte name limit.
const CONTAINERS = /\/containers\/([^/_]+)_([^/_]+)_([^/]+)-([0-9a-f]{1,64})\.log$/;
// /var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log[.<YYYYMMDD-hhmmss>[.gz]]
const PODS = /\/pods\/([^/_]+)_([^/_]+)_([^/]+)\/([^/]+)\/(\d+)\.log(?:\.\d{8}-\d{6}(?:\.gz)?)?$/;
// /var/lib/docker/containers/<id>/<id>-json.log[.N]
const DOCKER = /\/containers\/([0-9a-f]{64})\/\1-json\.log(?:\.\d+)?$/;

export interface FileDescription {
  readonly source: SourceKind;
  readonly meta: PathMetadata;
}

/**
 * Describes a file from every path that leads to it: the path discovery matched, the
 * symlink hops it went through, and where it really is. Later paths fill what earlier ones lack.
 */
export function describeFile(paths: readonly string[]): FileDescription {
  let source: SourceKind | undefined;
  const meta: { -readonly [K in keyof PathMetadata]: PathMetadata[K] } = {};
  for (const path of paths) {
    const kind = parsePath(path, meta);
    source ??= kind;
  }
  return { source: source ?? 'host', meta };
}

function parsePath(path: string, meta: { -readonly [K in keyof PathMetadata]: PathMetadata[K] }): SourceKind | undefined {
  let m = PODS.exec(path);
  if (m !== null) {
    meta.namespace ??= m[1] as string;
    meta.pod ??= m[2] as string;
    meta.podUid ??= m[3] as string;
    meta.container ??= m[4] as string;
    meta.restartCount ??= Number(m[5]);
    return 'pods';
  }
  m = DOCKER.exec(path);
  if (m !== null) {
    meta.containerId ??= m[1] as string;
    return 'docker';
  }
  m = CONTAINERS.exec(path);
  if (m !== null) {
    meta.pod ??= m[1] as string;
    meta.namespace ??= m[2] as string;
    meta.container ??= m[3] as string;
    meta.containerId ??= m[4] as string;
    return 'containers';
  }
  return undefined;
}

/** Rotated files (`0.log.20240101-120000`, `x-json.log.1`) and their compressed/temporary forms. */
export function isRotatedName(path: string): boolean {
  const name = basename(path);
  return /\.log\.\d{8}-\d{6}/.test(name) || /-json\.log\.\d+$/.test(name) || name.endsWith('.gz') || name.endsWith('.tmp');
}
