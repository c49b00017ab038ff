import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BulkEndpointProcess } from './bulk-endpoint-process.ts';
import { ChildProgram } from './child-program.ts';
import { makeNodeTree } from './make-node-tree.ts';
import { ProcessSampler } from './process-sampler.ts';

test('the baseline ships every line of the tree to the endpoint process, and follows appended lines', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'nodetail-bench-baseline-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const tree = await makeNodeTree({ root: work, records: 3000, containers: 5, seed: 4 });
  const endpoint = await BulkEndpointProcess.start();
  t.after(() => endpoint.stop());
  await endpoint.reset({ seqBase: 0, seqCount: tree.records + 10, latency: false });

  const baseline = ChildProgram.start(
    'baseline',
    [join(import.meta.dirname, 'baseline.ts'), '--dir', tree.containersDir, '--url', endpoint.url, '--follow', '--poll-ms', '50'],
    { cwd: work, env: {} },
  );
  t.after(() => baseline.stop(5_000));
  const sampler = new ProcessSampler(baseline.pid, ProcessSampler.clockTicksPerSecond());

  const waitFor = async (distinct: number) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const stats = await endpoint.stats();
      if (stats.distinct >= distinct || Date.now() > deadline || !baseline.running) return stats;
      await sleep(50);
    }
  };
  const stats = await waitFor(tree.records);
  assert.equal(stats.distinct, tree.records, baseline.output);
  // It does not join CRI partials: one document per physical line.
  assert.equal(stats.items, tree.physicalLines);
  assert.equal(stats.withoutSeq, tree.physicalLines - tree.records);
  assert.equal(stats.duplicates, 0);

  const sample = sampler.sample();
  assert.ok(sample !== undefined && sample.cpuSeconds > 0 && sample.rssBytes > 0 && sample.peakRssBytes >= sample.rssBytes);

  // --follow: a line appended later arrives too, whole even if written in two pieces.
  const path = tree.files[0]?.path ?? '';
  await appendFile(path, '2026-11-22T10:00:00Z stdout F late seq=');
  await sleep(150);
  await appendFile(path, `${tree.records + 3}\n`);
  const later = await waitFor(tree.records + 1);
  assert.equal(later.distinct, tree.records + 1);
  assert.equal(later.foreign, 0);

  const shutdownMs = await baseline.stop(5_000);
  assert.notEqual(shutdownMs, undefined, 'SIGTERM ends the baseline');
});
