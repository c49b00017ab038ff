import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentProcess } from './agent-process.ts';

/**
 * Polls `probe` every 50 ms until it returns a value (a thrown error counts as "not yet"); fails
 * with `what` at the deadline, or at once when `agent` (if given) has exited.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, agent?: AgentProcess): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (agent?.gone === true) {
      throw new Error(`agent ended (exit ${agent.child.exitCode ?? agent.child.signalCode ?? agent.spawnError?.message}) while waiting for ${what}; log: ${JSON.stringify(agent.logs.slice(-10))}`);
    }
    if (Date.now() > deadline) {
      const tail = agent === undefined ? '' : `; log: ${JSON.stringify(agent.logs.slice(-5))}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (${String(last)})`}${tail}`);
    }
    await sleep(50);
  }
}
