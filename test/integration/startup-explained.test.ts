import assert from 'node:assert/strict';
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';

/** The self-log messages of a start, up to "nodetail started". */
async function startMessages(agent: AgentProcess): Promise<{ msg: unknown; level: unknown; files?: unknown }[]> {
  await agent.httpPort();
  const end = agent.logs.findIndex((l) => l.msg === 'nodetail started');
  return agent.logs.slice(0, end).map((l) => ({ level: l.level, msg: l.msg, ...(l.files === undefined ? {} : { files: l.files }) }));
}

test('start-up says what each pattern finds, warns of a missing folder, and where the checkpoints resume', { timeout: 60_000 }, async (t) => {
  const { dir, remove } = await tempStateDir();
  t.after(remove);
  const logs = join(dir, 'logs');
  await mkdir(logs);
  await writeFile(join(logs, 'a.log'), 'a1\na2\n');
  await writeFile(join(logs, 'b.log'), 'b1\n');
  await writeFile(join(logs, 'skip.log'), 'never\n');
  const found = join(logs, '*.log');
  const missing = join(dir, 'not-there', '*.log');
  const env = { NODETAIL_PATHS: `${found},${missing}`, NODETAIL_EXCLUDE_PATHS: join(logs, 'skip.log'), NODETAIL_STATE_DIR: join(dir, 'state') };

  const first = new AgentProcess(env);
  t.after(() => first.kill9());
  assert.deepEqual(await startMessages(first), [
    { level: 'info', msg: `pattern ${found}: 2 files`, files: 2 },
    { level: 'warn', msg: `pattern ${missing}: its folder ${join(dir, 'not-there')} does not exist; files are read once it appears` },
    { level: 'info', msg: `no checkpoints in ${join(dir, 'state')}: first start, files already there are read from their head` },
    { level: 'info', msg: 'files: 2 started, 0 finished' },
  ]);
  await first.waitFor('the three lines', () => first.records.length === 3);
  assert.equal((await first.stop()).code, 0);

  // A second start says it resumes, and which files have nothing new.
  await appendFile(join(logs, 'a.log'), 'a3\n');
  const second = new AgentProcess(env);
  t.after(() => second.kill9());
  const messages = await startMessages(second);
  assert.deepEqual(messages.slice(-2), [
    { level: 'info', msg: 'resuming 2 files from checkpoints (1 already at their end)', files: 2 },
    { level: 'info', msg: 'files: 2 started, 0 finished' },
  ]);
  await second.waitFor('the new line', () => second.records.length === 1);
  assert.equal(second.records[0]?.log, 'a3');
  assert.equal((await second.stop()).code, 0);
});

test('files started and finished are said at info level, one summary line per rescan with changes, naming a few paths', { timeout: 60_000 }, async (t) => {
  const { dir, remove } = await tempStateDir();
  t.after(remove);
  const logs = join(dir, 'logs');
  await mkdir(logs);
  const names = Array.from({ length: 7 }, (_, i) => join(logs, `f${i}.log`));
  for (const name of names) await writeFile(name, 'seq=0\n');
  const agent = new AgentProcess({ NODETAIL_PATHS: join(logs, '*.log'), NODETAIL_STATE_DIR: join(dir, 'state') });
  t.after(() => agent.kill9());
  const summaries = () => agent.logs.filter((l) => String(l.msg).startsWith('files: '));
  await agent.waitFor('the start summary', () => summaries().length === 1);
  // Seven files: all counted, five named (in the order they were opened), in one line.
  const [first] = summaries();
  assert.equal(first?.msg, 'files: 7 started, 0 finished');
  assert.equal(first?.level, 'info');
  assert.equal((first?.startedPaths as string[]).length, 5);
  for (const path of first?.startedPaths as string[]) assert.ok(names.includes(path), path);

  // One file removed: read to its end, let go once rotate_wait passes, said at the next rescan.
  await rm(names[0] as string);
  await agent.waitFor('the finished summary', () => summaries().length === 2);
  assert.deepEqual(summaries().map((l) => [l.msg, l.started, l.finished, l.finishedPaths]).at(-1), ['files: 0 started, 1 finished', 0, 1, [names[0]]]);
  await agent.waitFor('every line', () => agent.records.length === 7);
  assert.equal((await agent.stop()).code, 0);
  assert.equal(summaries().length, 2, 'nothing more changed: no more summaries');
});
