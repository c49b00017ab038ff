/**
 * `npm run test:stress [-- --runs N --hogs N --out DIR] [test files...]`: runs the test suite N
 * times (default 5) while N busy-looping processes (default: one per core) keep the CPU busy, and
 * prints each run's counts and then the failures per test file. CI machines are shared and loaded:
 * a test that fails here even once is a test that will one day fail CI by chance. Not part of CI.
 *
 * The suite is run exactly as package.json's `test` script says (its command, its flags), with
 * this folder's reporter added; each run's full output is kept in --out (a temp folder by default).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

interface Outcome {
  readonly failed: boolean;
  readonly file?: string;
  readonly name?: string;
  readonly error?: string;
}

/** package.json's test command as argv for node, with this folder's reporter instead of the default one. */
function suiteArgs(files: readonly string[]): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { test: string } };
  const words = pkg.scripts.test.split(' ').map((w) => w.replace(/^"(.*)"$/, '$1'));
  if (words[0] !== 'node') throw new Error(`package.json test is not "node ...": ${pkg.scripts.test}`);
  const flags = words.slice(1).filter((w) => w.startsWith('--'));
  const globs = words.slice(1).filter((w) => !w.startsWith('--'));
  return [...flags, `--test-reporter=${join(ROOT, 'test/stress/failure-reporter.ts')}`, ...(files.length > 0 ? files : globs)];
}

function startHogs(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

async function runSuite(args: readonly string[], logFile: string): Promise<{ outcomes: Outcome[]; code: number | null; seconds: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  writeFileSync(logFile, out);
  const outcomes: Outcome[] = [];
  for (const line of out.split('\n')) {
    if (!line.startsWith('{"failed":')) continue;
    outcomes.push(JSON.parse(line) as Outcome);
  }
  return { outcomes, code, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { runs: { type: 'string', default: '5' }, hogs: { type: 'string', default: String(availableParallelism()) }, out: { type: 'string' } },
  });
  const runs = Number(values.runs);
  const hogCount = Number(values.hogs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a whole number >= 1, got ${values.runs}`);
  if (!Number.isInteger(hogCount) || hogCount < 0) throw new Error(`--hogs: expected a whole number >= 0, got ${values.hogs}`);
  const out = values.out ?? mkdtempSync(join(tmpdir(), 'nodetail-stress-'));
  mkdirSync(out, { recursive: true });
  const args = suiteArgs(positionals);
  const hogs = startHogs(hogCount);
  const stopHogs = () => hogs.forEach((h) => h.kill('SIGKILL'));
  process.once('SIGINT', () => (stopHogs(), process.exit(130)));
  console.log(`test:stress: ${runs} runs of the suite beside ${hogCount} CPU hogs; output in ${out}`);

  const failuresPerFile = new Map<string, string[]>();
  let failedRuns = 0;
  try {
    for (let run = 1; run <= runs; run++) {
      const { outcomes, code, seconds } = await runSuite(args, join(out, `run-${run}.log`));
      const failed = outcomes.filter((o) => o.failed);
      if (failed.length > 0 || code !== 0) failedRuns++;
      console.log(`run ${run}: ${outcomes.length - failed.length} passed, ${failed.length} failed, exit ${code}, ${seconds.toFixed(0)} s`);
      for (const f of failed) {
        const file = f.file ?? '(unknown file)';
        const list = failuresPerFile.get(file) ?? [];
        list.push(`run ${run}: ${f.name ?? '?'}: ${(f.error ?? '').split('\n')[0]?.slice(0, 200) ?? ''}`);
        failuresPerFile.set(file, list);
        console.log(`  FAIL ${file.replace(`${ROOT}/`, '')}: ${f.name ?? '?'}`);
      }
    }
  } finally {
    stopHogs();
  }
  console.log(`\nfailures per test file over ${runs} runs (${failedRuns} runs with a failure):`);
  if (failuresPerFile.size === 0) console.log('  none');
  for (const [file, list] of [...failuresPerFile].sort((a, b) => b[1].length - a[1].length)) {
    console.log(`  ${list.length}  ${file.replace(`${ROOT}/`, '')}`);
    for (const line of list) console.log(`       ${line}`);
  }
  process.exitCode = failedRuns > 0 ? 1 : 0;
}

await main();
