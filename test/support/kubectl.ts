import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Where kubectl is: `$KUBECTL`, else the first on PATH, else where installers put it (a PATH
 * trimmed by a CI step or by npm must not turn a kustomize test into a skip). Undefined when
 * there is none.
 */
export function findKubectl(): string | undefined {
  const candidates = [
    process.env.KUBECTL,
    ...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, 'kubectl')),
    '/usr/local/bin/kubectl',
    '/usr/bin/kubectl',
    '/snap/bin/kubectl',
    join(homedir(), '.local/bin/kubectl'),
  ];
  return candidates.find((path) => path !== undefined && path !== '' && isExecutable(path));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True in CI (`.ci/run` sets CI): a test whose tool is missing there fails instead of skipping. */
export const IN_CI = (process.env.CI ?? '') !== '';
