import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Log } from '../../../agent/core/log.ts';
import { createRateLimitedLog } from '../../../agent/telemetry/rate-limited-log.ts';

interface Line {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function recorder(): { log: Log; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (fields: object, message: string) => lines.push({ level, fields: fields as Record<string, unknown>, message });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

test('a repeated error is written once per window, then summarised with its count', () => {
  const { log, lines } = recorder();
  let now = 1000;
  const limited = createRateLimitedLog(log, { windowMs: 10_000, now: () => now });
  try {
    for (let i = 0; i < 50; i++) {
      now += 100;
      limited.error({ status: 503, offset: i }, 'bulk request failed');
    }
    assert.equal(lines.length, 1);
    assert.deepEqual(lines[0], { level: 'error', fields: { status: 503, offset: 0 }, message: 'bulk request failed' });
    now += 10_000; // the window is over: the next occurrence summarises the last and is written again
    limited.error({ status: 503, offset: 50 }, 'bulk request failed');
    assert.equal(lines.length, 3);
    assert.deepEqual(lines[1], {
      level: 'error',
      fields: { status: 503, offset: 49, repeated: 49, windowMs: 10_000 },
      message: 'bulk request failed (repeated 49 times)',
    });
    assert.deepEqual(lines[2]?.fields, { status: 503, offset: 50 });
  } finally {
    limited.close();
  }
});

test('different key fields, messages or levels are different events; debug and info pass through', () => {
  const { log, lines } = recorder();
  const limited = createRateLimitedLog(log, { windowMs: 60_000, now: () => 0 });
  try {
    limited.warn({ path: '/a', reason: 'unreadable' }, 'cannot read file');
    limited.warn({ path: '/b', reason: 'unreadable' }, 'cannot read file');
    limited.warn({ path: '/a', reason: 'vanished' }, 'cannot read file');
    limited.error({ path: '/a', reason: 'unreadable' }, 'cannot read file');
    limited.warn({ path: '/a', reason: 'unreadable' }, 'another message');
    limited.warn({ err: Object.assign(new Error('x'), { code: 'EACCES' }) }, 'open failed');
    limited.warn({ err: Object.assign(new Error('x'), { code: 'ENOENT' }) }, 'open failed');
    limited.warn({ path: '/a', reason: 'unreadable', offset: 7 }, 'cannot read file'); // a repeat: offset is not a key field
    for (let i = 0; i < 3; i++) {
      limited.info({}, 'started');
      limited.debug({}, 'tick');
    }
    assert.equal(lines.filter((l) => l.level === 'warn' || l.level === 'error').length, 7);
    assert.equal(lines.filter((l) => l.level === 'info').length, 3);
    assert.equal(lines.filter((l) => l.level === 'debug').length, 3);
    limited.flush();
    const summary = lines.at(-1);
    assert.deepEqual(summary, {
      level: 'warn',
      fields: { path: '/a', reason: 'unreadable', offset: 7, repeated: 1, windowMs: 60_000 },
      message: 'cannot read file (repeated 1 time)',
    });
  } finally {
    limited.close();
  }
});

test('the summary is written when the window ends even if the error stops', async () => {
  const { log, lines } = recorder();
  const limited = createRateLimitedLog(log, { windowMs: 30 });
  try {
    for (let i = 0; i < 5; i++) limited.error({ status: 429 }, 'throttled');
    assert.equal(lines.length, 1);
    const deadline = Date.now() + 2000;
    while (lines.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(lines.length, 2);
    assert.equal(lines[1]?.message, 'throttled (repeated 4 times)');
    assert.equal(lines[1]?.fields.repeated, 4);
  } finally {
    limited.close();
  }
});

test('close writes pending summaries; past the key limit the oldest is summarised and forgotten', () => {
  const { log, lines } = recorder();
  const limited = createRateLimitedLog(log, { windowMs: 60_000, maxKeys: 2, now: () => 0 });
  limited.error({ code: 'A' }, 'e');
  limited.error({ code: 'A' }, 'e');
  limited.error({ code: 'B' }, 'e');
  limited.error({ code: 'C' }, 'e'); // evicts A, summarising its one repeat
  assert.deepEqual(lines.map((l) => l.message), ['e', 'e', 'e (repeated 1 time)', 'e']);
  limited.error({ code: 'C' }, 'e');
  limited.error({ code: 'C' }, 'e');
  limited.close();
  assert.deepEqual(lines.at(-1), { level: 'error', fields: { code: 'C', repeated: 2, windowMs: 60_000 }, message: 'e (repeated 2 times)' });
  limited.error({ code: 'C' }, 'e'); // after close every line passes through
  assert.equal(lines.length, 6);
});
