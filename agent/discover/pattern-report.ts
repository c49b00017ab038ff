import { stat } from 'node:fs/promises';
import { glob } from 'node:fs/promises';
import { matchesGlob } from 'node:path';

/** What one `paths` pattern finds at start-up. */
export interface PatternReport {
  readonly pattern: string;
  /** Files it matches now, minus those `exclude_paths` drops. */
  readonly files: number;
  /** The folder the pattern starts from, when it does not exist (nothing is read from it until it does). */
  readonly missingFolder?: string;
}

/**
 * Per pattern, how many files it finds and whether its folder exists: so that a start-up says
 * "the container pattern found 0 files because /var/log/containers does not exist" instead of
 * nothing. One expansion per pattern, at start only; discovery keeps its own reckoning.
 */
export async function reportPatterns(include: readonly string[], exclude: readonly string[]): Promise<PatternReport[]> {
  return Promise.all(include.map(async (pattern) => {
    const folder = folderOf(pattern);
    if (!(await isFolder(folder))) return { pattern, files: 0, missingFolder: folder };
    let files = 0;
    for await (const path of glob(pattern)) if (!exclude.some((x) => matchesGlob(path, x))) files++;
    return { pattern, files };
  }));
}

/** The path before the pattern's first wildcard, up to its last `/`: the folder it lists. */
function folderOf(pattern: string): string {
  const wildcard = pattern.search(/[*?[{]/);
  const fixed = wildcard < 0 ? pattern : pattern.slice(0, wildcard);
  return fixed.slice(0, fixed.lastIndexOf('/')) || '/';
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
