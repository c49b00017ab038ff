import type { LogFormat } from '../core/record.ts';
import { CriLine } from './cri-line.ts';
import { DockerLine } from './docker-line.ts';

// moby's json-file driver: /var/lib/docker/containers/<id>/<id>-json.log, rotated to .1, .2, ...
const DOCKER_PATH = /\/containers\/[^/]+\/[^/]+-json\.log(\.\d+)?$/;

/**
 * The format of a file, from its path and its first line `buf[from, to)` (without its `\n`; empty
 * when the file has no complete line yet). Container logs are CRI unless they are docker json-file,
 * so a container log whose first line is neither is still read as CRI: its bad lines ship flagged
 * `malformed_cri` rather than silently as plain text. Called once per file, not per line.
 */
export function detectFormat(path: string, buf: Buffer, from: number, to: number): LogFormat {
  if (DOCKER_PATH.test(path)) return 'docker';
  if (to > from) {
    if (new DockerLine().parse(buf, from, to)) return 'docker';
    if (new CriLine().scan(buf, from, to)) return 'cri';
  }
  if (path.includes('/pods/') || path.includes('/containers/')) return 'cri';
  return 'plain';
}
