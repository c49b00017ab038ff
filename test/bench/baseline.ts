import { fstatSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

/**
 * The "bare Node program" of issue 5: the floor nodetail is measured against. It reads
 * every `*.log` in a directory with positional reads into one reused buffer, splits on
 * `\n` with `indexOf`, wraps each line as `{"message": <line>}` behind a `create` action,
 * and POSTs `_bulk` bodies of about 5 MB with undici, 2 in flight. No parsing, no
 * metadata, no checkpoints, no retries: what is left is the cost Node itself imposes.
 *
 * `--follow` keeps polling the files after the first pass (for the steady-rate and idle
 * phases when the benchmark runs the baseline alone).
 *
 *   node test/bench/baseline.ts --dir <dir> --url http://127.0.0.1:9200 [--follow] [--poll-ms 1000]
 */

const ACTION = '{"create":{"_index":"bench"}}\n';
const BODY_CHARS = 5 * 1024 * 1024;
const IN_FLIGHT = 2;
const READ_BYTES = 1024 * 1024;

interface TailedFile {
  readonly handle: FileHandle;
  position: number;
  /** An unterminated last line seen at end of file, kept for the next poll. */
  carry: Buffer | undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      url: { type: 'string' },
      follow: { type: 'boolean', default: false },
      'poll-ms': { type: 'string', default: '1000' },
    },
  });
  if (values.dir === undefined || values.url === undefined) throw new Error('usage: baseline.ts --dir DIR --url URL [--follow]');
  const pollMs = Number(values['poll-ms']);
  const names = (await readdir(values.dir)).filter((name) => name.endsWith('.log')).sort();
  const files: TailedFile[] = [];
  for (const name of names) files.push({ handle: await open(join(values.dir, name), 'r'), position: 0, carry: undefined });

  const pool = new Pool(values.url, { connections: IN_FLIGHT });
  const inFlight = new Set<Promise<void>>();
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  let parts: string[] = [];
  let chars = 0;

  const post = async (body: string): Promise<void> => {
    const response = await pool.request({
      method: 'POST',
      path: '/_bulk',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
    // Read the answer to free the connection; not parsed.
    await response.body.arrayBuffer();
    if (response.statusCode !== 200) throw new Error(`_bulk answered ${response.statusCode}`);
  };

  const flush = async (): Promise<void> => {
    if (parts.length === 0) return;
    const body = parts.join('');
    parts = [];
    chars = 0;
    while (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    const sending = post(body).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };

  /** Wraps one line; true when the body is full. No await here: it runs once per line. */
  const addLine = (line: string): boolean => {
    parts.push(ACTION, '{"message":', JSON.stringify(line), '}\n');
    chars += ACTION.length + line.length + 16;
    return chars >= BODY_CHARS;
  };

  const drain = async (file: TailedFile): Promise<void> => {
    let kept = 0;
    if (file.carry !== undefined) {
      kept = file.carry.copy(buffer, 0);
      file.carry = undefined;
    }
    for (;;) {
      const { bytesRead } = await file.handle.read(buffer, kept, buffer.length - kept, file.position);
      if (bytesRead === 0) {
        if (kept > 0) file.carry = Buffer.from(buffer.subarray(0, kept));
        return;
      }
      file.position += bytesRead;
      const view = buffer.subarray(0, kept + bytesRead);
      let start = 0;
      for (let end = view.indexOf(10); end !== -1; end = view.indexOf(10, start)) {
        if (addLine(view.toString('utf8', start, end))) await flush();
        start = end + 1;
      }
      if (start === 0 && view.length === buffer.length) {
        // A line longer than the buffer: ship what we have as a line of its own.
        if (addLine(view.toString('utf8'))) await flush();
        start = view.length;
      }
      kept = view.copy(buffer, 0, start);
    }
  };

  // SIGTERM ends the program normally, so that `--cpu-prof` writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  // Started by the benchmark with a pipe on stdin: if the benchmark dies, so do we.
  if (fstatSync(0).isFIFO()) process.stdin.on('end', () => process.exit(0)).resume();
  try {
    do {
      for (const file of files) await drain(file);
      await flush();
      if (values.follow) await sleep(pollMs);
    } while (values.follow);
    await Promise.all(inFlight);
    // Stay alive until the benchmark has read our CPU and memory figures and sends SIGTERM.
    process.stdout.write('baseline: done\n');
    await sleep(2 ** 31 - 1);
  } finally {
    await pool.close();
    for (const file of files) await file.handle.close();
  }
}

await main();
