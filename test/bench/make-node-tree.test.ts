import assert from 'node:assert/strict';
import { readdir, readFile, readlink, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CRI_PARTIAL_BYTES } from './log-line-generator.ts';
import { makeNodeTree } from './make-node-tree.ts';

const LINK_NAME = /^([a-z0-9-]+)_([a-z0-9-]+)_([a-z0-9-]+)-([0-9a-f]{64})\.log$/;
const CRI_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) (stdout|stderr) ([PF]) (.*)$/;

test('the tree has the kubelet layout, valid CRI lines and every seq exactly once', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'nodetail-bench-tree-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const tree = await makeNodeTree({ root: join(work, 'a'), records: 6000, containers: 7, seed: 1, seqBase: 10 });

  assert.equal(tree.files.length, 7);
  assert.equal(tree.containersGlob, join(work, 'a', 'var', 'log', 'containers', '*.log'));
  assert.deepEqual((await readdir(tree.containersDir)).sort(), tree.files.map((f) => f.link.slice(tree.containersDir.length + 1)).sort());

  const seqs: number[] = [];
  let lines = 0;
  let bytes = 0;
  let partials = 0;
  let json = 0;
  for (const file of tree.files) {
    const name = LINK_NAME.exec(file.link.slice(tree.containersDir.length + 1));
    assert.ok(name, file.link);
    const [, pod, namespace, container] = name;
    // Absolute link to <root>/var/log/pods/<ns>_<pod>_<uid>/<container>/0.log
    const target = await readlink(file.link);
    assert.equal(target, file.path);
    const podDir = new RegExp(`^${join(work, 'a', 'var', 'log', 'pods')}/${namespace}_${pod}_[0-9a-f-]{36}/${container}/0\\.log$`);
    assert.match(target, podDir);

    const text = await readFile(file.path, 'utf8');
    bytes += (await stat(file.path)).size;
    assert.ok(text.endsWith('\n'));
    let partialStream: string | undefined;
    for (const line of text.slice(0, -1).split('\n')) {
      lines++;
      const cri = CRI_LINE.exec(line);
      assert.ok(cri, line.slice(0, 200));
      const [, , stream, tag, message = ''] = cri;
      if (partialStream !== undefined) assert.equal(stream, partialStream, 'a partial record continues on its stream');
      const seq = /seq=(\d+)/.exec(message);
      if (partialStream === undefined) {
        assert.ok(seq, 'the first line of each record carries its seq');
        seqs.push(Number(seq[1]));
        if (message.startsWith('{')) json++;
      } else {
        assert.equal(seq, null, 'continuation parts carry no seq');
      }
      if (tag === 'P') {
        partials++;
        assert.equal(Buffer.byteLength(message), CRI_PARTIAL_BYTES);
        partialStream = stream;
      } else {
        partialStream = undefined;
      }
    }
    assert.equal(partialStream, undefined, 'no file ends inside a record');
  }
  seqs.sort((a, b) => a - b);
  assert.deepEqual(seqs, Array.from({ length: 6000 }, (_, i) => i + 10));
  assert.equal(lines, tree.physicalLines);
  assert.equal(lines - 6000, partials);
  assert.ok(partials > 0, 'some records are longer than 16 KiB');
  assert.equal(bytes, tree.bytes);
  assert.ok(json > 6000 * 0.25 && json < 6000 * 0.35, `about 30 % JSON, got ${json}`);
  const average = bytes / lines;
  assert.ok(average > 330 && average < 470, `average line about 390 bytes, got ${average}`);

  // The same seed writes the same bytes.
  const again = await makeNodeTree({ root: join(work, 'b'), records: 6000, containers: 7, seed: 1, seqBase: 10 });
  for (const [i, file] of tree.files.entries()) {
    assert.deepEqual(await readFile(again.files[i]?.path ?? ''), await readFile(file.path));
  }
});

test('evenly spreads records round-robin, one per file', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'nodetail-bench-tree-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const tree = await makeNodeTree({ root: work, records: 40, containers: 40, evenly: true });
  for (const file of tree.files) {
    const text = await readFile(file.path, 'utf8');
    assert.equal(text.split('\n').length - 1, 1);
  }
});
