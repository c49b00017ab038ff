/**
 * Bytes held for unfinished lines count in buffer_max_bytes: many files each in the middle of a
 * long line (its end not written yet) must not take memory past the budget. Before, each file
 * held its line (up to max_record_bytes) outside the budget: 300 files with a 1 MiB line took
 * 135 MB. Once the ends are written every line arrives: files holding part of a line are read on
 * while the budget is spent, so they cannot wait for room that only they can make.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { FakeNode } from '../support/fake-node.ts';
import { until } from '../support/until.ts';

const FILES = 160;
const LINE = 1024 * 1024 - 64;

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m === null ? Number.NaN : Number(m[1]);
}

test(`${FILES} files each in the middle of a 1 MiB line stay within the memory budget, and every line arrives once ended`, async (t) => {
  const node = await FakeNode.create();
  const state = await tempStateDir();
  t.after(() => Promise.all([node.remove(), state.remove()]));
  const paths = Array.from({ length: FILES }, (_, i) => join(node.root, 'var/log', `long-${i}.log`));
  for (const [i, path] of paths.entries()) writeFileSync(path, `seq=${i} `.padEnd(LINE, 'x'));

  const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir, NODETAIL_MAX_RECORD_BYTES: '1MiB' });
  t.after(() => agent.kill9());
  const port = await agent.httpPort();
  // Either it read everything into memory (the defect), or it stopped at the budget.
  await until('reading to stop', async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return metric(text, 'nodetail_input_backlog_bytes') === 0 || metric(text, 'nodetail_input_ingestion_paused') === 1 ? true : undefined;
  }, 30_000, agent);
  await sleep(500);
  const peak = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${agent.child.pid}/status`, 'utf8'))?.[1]) * 1024;
  t.diagnostic(`peak RSS ${Math.round(peak / 1048576)} MiB`);
  // The agent alone is about 100 MB; the lines held would add 160 MiB.
  assert.ok(peak < 170 * 1024 * 1024, `peak RSS ${Math.round(peak / 1048576)} MiB with ${FILES} unfinished 1 MiB lines and an 8 MiB budget`);

  for (const [i, path] of paths.entries()) writeFileSync(path, `\nseq=${i} end\n`, { flag: 'a' });
  await agent.waitFor('every line', () => agent.records.length >= 2 * FILES, 60_000);
  await sleep(300);
  assert.equal((await agent.stop()).code, 0);
  for (const [i, path] of paths.entries()) {
    const got = agent.records.filter((r) => r.path === path).map((r) => ({ start: String(r.log).slice(0, 12), length: String(r.log).length, truncated: r.truncated }));
    assert.deepEqual(got, [
      { start: `seq=${i} `.padEnd(12, 'x'), length: LINE, truncated: undefined },
      { start: `seq=${i} end`, length: `seq=${i} end`.length, truncated: undefined },
    ], path);
  }
  assert.equal(agent.records.length, 2 * FILES);
});
