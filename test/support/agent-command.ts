import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** How the agent is started: package.json's `start` script, split into its parts. */
export interface AgentCommand {
  /** `KEY=value` assignments before `node` (the compile cache, malloc), paths relative to the repository. */
  readonly env: Readonly<Record<string, string>>;
  /** Node's flags between `node` and `agent/main.ts`. */
  readonly nodeFlags: readonly string[];
}

/**
 * package.json's `start` is the one place the agent's start command is written down: the tests
 * and the benchmark start the agent the same way, and the Dockerfile is checked against it.
 */
export function agentCommand(): AgentCommand {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(' ');
  const node = words.indexOf('node');
  const main = words.indexOf('agent/main.ts');
  if (node < 0 || main < node) throw new Error(`package.json start is not "[K=V ...] node [flags] agent/main.ts": ${pkg.scripts.start}`);
  const env = Object.fromEntries(words.slice(0, node).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
  return { env, nodeFlags: words.slice(node + 1, main) };
}

/** The start command's environment with its relative paths made absolute, for a child process. */
export function agentCommandEnv(): Record<string, string> {
  const absolute = (v: string): string => (v.includes('/') && !v.startsWith('/') ? join(ROOT, v) : v);
  return Object.fromEntries(Object.entries(agentCommand().env).map(([k, v]) => [k, absolute(v)]));
}
