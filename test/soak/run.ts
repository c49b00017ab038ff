/**
 * `npm run soak [-- --seconds N --containers N --rate N --seed N --outage-seconds N
 * --max-old-space-mib N --agent-log FILE]`: the soak
 * (run-soak.ts) with its figures printed; exits 1 when a line is missing or indexed twice.
 */
import { DEFAULT_SOAK_OPTIONS, runSoak, type SoakOptions } from './run-soak.ts';
import { formatSoakReport, soakFailures } from './format-soak-report.ts';

const FLAGS: Record<string, 'seconds' | 'containers' | 'linesPerSecond' | 'seed' | 'outageSeconds' | 'maxOldSpaceMiB'> = {
  '--seconds': 'seconds',
  '--containers': 'containers',
  '--rate': 'linesPerSecond',
  '--seed': 'seed',
  '--outage-seconds': 'outageSeconds',
  '--max-old-space-mib': 'maxOldSpaceMiB',
};

function parseArgs(argv: readonly string[]): SoakOptions {
  const options: { -readonly [K in keyof SoakOptions]: SoakOptions[K] } = { ...DEFAULT_SOAK_OPTIONS };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] as string;
    if (flag === '--agent-log') {
      options.agentLogFile = argv[i + 1] as string;
      continue;
    }
    const key = FLAGS[flag];
    const value = Number(argv[i + 1]);
    if (key === undefined) throw new Error(`unknown flag ${flag}; expected one of ${Object.keys(FLAGS).join(', ')}`);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${flag}: expected a number >= 0, got ${String(argv[i + 1])}`);
    options[key] = value;
  }
  return options;
}

async function main(): Promise<void> {
  const interrupted = new AbortController();
  // Ctrl-C: stop the agent and the fake, remove the temp trees, then exit.
  process.once('SIGINT', () => interrupted.abort(new Error('interrupted')));
  const options = { ...parseArgs(process.argv.slice(2)), progress: (line: string) => process.stderr.write(`soak: ${line}\n`), signal: interrupted.signal };
  const command = ['npm run soak', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  process.stderr.write(`soak: ${command}: about ${options.seconds} s of writing, then the drain\n`);
  const result = await runSoak(options);
  process.stdout.write(`$ ${command}\n${formatSoakReport(result)}\n`);
  process.exitCode = soakFailures(result).length === 0 ? 0 : 1;
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 2;
  });
}
