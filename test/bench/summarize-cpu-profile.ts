import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

/**
 * The functions with the most self time in a `.cpuprofile` (what `node --cpu-prof`
 * writes), as text: a first look without opening DevTools. Self time is summed per
 * function and location, so a function inlined into many callers still shows as one row.
 */

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export async function summarizeCpuProfile(path: string, top: number, root: string): Promise<string> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id)?.callFrame;
    if (frame === undefined) return;
    const where = frame.url === '' ? '' : ` ${frame.url.startsWith('file://') ? relative(root, new URL(frame.url).pathname) : frame.url}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName === '' ? '(anonymous)' : frame.functionName}${where}`;
    const delta = profile.timeDeltas[i] ?? 0;
    selfMicros.set(key, (selfMicros.get(key) ?? 0) + delta);
    // Shares are of the time the process was busy.
    if (frame.functionName !== '(idle)') total += delta;
  });
  return [...selfMicros]
    .filter(([key]) => !key.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, micros]) => `${(micros / 1000).toFixed(0).padStart(7)} ms ${((micros / total) * 100).toFixed(1).padStart(5)} %  ${key}`)
    .join('\n');
}
