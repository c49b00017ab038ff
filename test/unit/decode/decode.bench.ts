// Micro-benchmark of the decoders: `./node_modules/.bin/node test/unit/decode/decode.bench.ts [lines]`.
// Prints lines/s per format on realistic lines (100-400 bytes, 30% JSON application payloads, a few
// non-ASCII characters, 1% split into partials), read from 64 KiB chunks as the tailer reads them.
// Figures belong in this output, not in tests.
import type { LogFile, LogFormat, LogRecord } from '../../../agent/core/record.ts';
import { createDecoder } from '../../../agent/decode/create-decoder.ts';
import { SeededRandom } from './seeded-random.ts';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const CHUNK = 64 * 1024;
const READ_TIME = '2026-11-22T10:00:00.000Z';
const file: LogFile = { key: '1:2', idPrefix: 'x', path: '/p', matchedPath: '/p', source: 'pods', meta: {} };

const rng = new SeededRandom(42);
const random = (): number => rng.next();
const pick = <T>(items: readonly T[]): T => rng.pick(items);
const WORDS = ['request', 'handled', 'user', 'session', 'cache', 'miss', 'upstream', 'timeout', 'retry', 'GET', 'POST', '/api/v1/orders', 'db', 'query', 'ok'];
const FOREIGN = ['données', 'größe', '完成'];

function message(): string {
  const text = ascii();
  return random() < 0.05 ? `${text} ${pick(FOREIGN)}` : text;
}

function ascii(): string {
  const size = 70 + Math.floor(random() * 300);
  if (random() < 0.3) {
    const payload: Record<string, unknown> = { level: pick(['info', 'warn', 'error', 'debug']), ts: 1732270000 + random(), caller: 'server/handler.go:118' };
    let text = '';
    while (JSON.stringify({ ...payload, msg: text }).length < size) text += `${pick(WORDS)} `;
    payload['msg'] = text.trim();
    payload['latency_ms'] = Math.floor(random() * 900);
    return JSON.stringify(payload);
  }
  let text = `${pick(['I', 'W', 'E'])}1122 10:00:00.123456 1 ${pick(['main.go', 'server.go', 'worker.go'])}:${Math.floor(random() * 500)}]`;
  while (text.length < size) text += ` ${pick(WORDS)}`;
  return text;
}

function time(): string {
  return `2024-11-22T10:00:${String(Math.floor(random() * 60)).padStart(2, '0')}.${String(Math.floor(random() * 1e9)).padStart(9, '0')}Z`;
}

function lines(format: LogFormat): string[] {
  const out: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const text = message();
    const stream = random() < 0.8 ? 'stdout' : 'stderr';
    const split = random() < 0.01 ? Math.floor(text.length / 2) : -1;
    if (format === 'plain') out.push(text);
    else if (format === 'cri') {
      if (split > 0) out.push(`${time()} ${stream} P ${text.slice(0, split)}`);
      out.push(`${time()} ${stream} F ${split > 0 ? text.slice(split) : text}`);
    } else {
      if (split > 0) out.push(JSON.stringify({ log: text.slice(0, split), stream, time: time() }));
      out.push(JSON.stringify({ log: `${split > 0 ? text.slice(split) : text}\n`, stream, time: time() }));
    }
  }
  return out;
}

interface Chunk { buf: Buffer; from: number[]; to: number[] }

/** The lines packed into 64 KiB chunks, with each line's bounds found once, outside the timing. */
function chunks(all: string[]): Chunk[] {
  const result: Chunk[] = [];
  let current: string[] = [];
  let size = 0;
  const close = (): void => {
    const buf = Buffer.from(current.join('\n') + '\n');
    const from: number[] = [], to: number[] = [];
    for (let at = 0; at < buf.length;) {
      const nl = buf.indexOf(0x0a, at);
      from.push(at);
      to.push(nl);
      at = nl + 1;
    }
    result.push({ buf, from, to });
    current = [];
    size = 0;
  };
  for (const line of all) {
    const n = Buffer.byteLength(line) + 1;
    if (size + n > CHUNK && current.length > 0) close();
    current.push(line);
    size += n;
  }
  if (current.length > 0) close();
  return result;
}

function run(format: LogFormat, data: Chunk[]): { perSecond: number; bytesPerSecond: number } {
  const decoder = createDecoder(format, file, 256 * 1024);
  let records = 0, chars = 0, done = 0, bytes = 0, offset = 0;
  const emit = (record: LogRecord): void => { records++; chars += record.message.length; };
  const began = process.hrtime.bigint();
  while (done < TOTAL) {
    for (const { buf, from, to } of data) {
      for (let i = 0; i < from.length; i++) {
        const a = from[i] as number, b = to[i] as number;
        decoder.line(buf, a, b, offset + a, offset + b + 1, false, READ_TIME, emit);
      }
      offset += buf.length;
      bytes += buf.length;
      done += from.length;
      if (done >= TOTAL) break;
    }
  }
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  if (records === 0 || chars === 0) throw new Error('nothing decoded');
  return { perSecond: done / seconds, bytesPerSecond: bytes / seconds };
}

function report(label: string, result: { perSecond: number; bytesPerSecond: number }): void {
  console.log(`${label.padEnd(28)} ${Math.round(result.perSecond).toLocaleString('en').padStart(12)} lines/s  ${(result.bytesPerSecond / 1048576).toFixed(0).padStart(5)} MiB/s`);
}

console.log(`decode micro-benchmark (args: [lines] [formats]): ${TOTAL.toLocaleString('en')} lines per format, Node ${process.version}`);
for (const format of (process.argv[3]?.split(',') ?? ['cri', 'docker', 'plain']) as LogFormat[]) {
  const data = chunks(lines(format));
  run(format, data); // warm-up: let the JIT settle before timing
  report(format, run(format, data));
  if (format === 'docker') {
    // Reference point: JSON.parse of every whole line, which the exact-shape path avoids.
    let parsed = 0;
    const began = process.hrtime.bigint();
    let done = 0, bytes = 0;
    while (done < TOTAL) {
      for (const { buf, from, to } of data) {
        for (let i = 0; i < from.length; i++) parsed += (JSON.parse(buf.toString('utf8', from[i], to[i])) as { log: string }).log.length;
        done += from.length;
        bytes += buf.length;
        if (done >= TOTAL) break;
      }
    }
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    if (parsed === 0) throw new Error('nothing parsed');
    report('docker (JSON.parse, ref.)', { perSecond: done / seconds, bytesPerSecond: bytes / seconds });
  }
}
