import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ShutdownError } from '../../../../agent/core/errors.ts';
import { DeadLetterFile } from '../../../../agent/sink/elasticsearch/dead-letter-file.ts';

const letter = (n: number) => ({ status: 400, error: { type: 'document_parsing_exception', reason: `bad ${n}` }, index: 'logstash-2024.03.05', document: `{"n":${n}}` });

test('appends one JSON line per letter, up to the byte bound, then only counts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-dl-'));
  try {
    const path = join(dir, 'dead-letters.ndjson');
    const now = new Date('2024-03-05T10:00:00.000Z');
    const line = '{"time":"2024-03-05T10:00:00.000Z","status":400,"error":{"type":"document_parsing_exception","reason":"bad 1"},"index":"logstash-2024.03.05","document":{"n":1}}\n';
    const file = new DeadLetterFile(path, Buffer.byteLength(line) * 2 + 10);
    assert.equal(await file.write([letter(1)], now), 1);
    assert.equal(await file.write([letter(2), letter(3)], now), 1);
    assert.equal(await file.write([letter(4)], now), 0);
    await file.close();
    const text = await readFile(path, 'utf8');
    assert.equal(text, line + line.replaceAll('bad 1', 'bad 2').replace('"n":1', '"n":2'));
    // The bound holds across restarts: the size already on disk counts.
    const again = new DeadLetterFile(path, Buffer.byteLength(line) * 2 + 10);
    assert.equal(await again.write([letter(5)], now), 0);
    await again.close();
    await assert.rejects(again.write([letter(6)], now), ShutdownError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a document that is not JSON is kept as the string sent', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-dl-'));
  try {
    const file = new DeadLetterFile(join(dir, 'd.ndjson'), 1e6);
    await file.write([{ ...letter(1), document: '{broken' }], new Date(0));
    await file.close();
    assert.equal(JSON.parse(await readFile(join(dir, 'd.ndjson'), 'utf8')).document, '{broken');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
