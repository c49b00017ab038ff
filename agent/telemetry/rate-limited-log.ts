import type { Log } from '../core/log.ts';

/**
 * A `Log` wrapper that keeps a failing dependency from flooding the self-log: a warning or error
 * with the same message and key fields is written once per window; the repeats inside the window
 * are counted and written as one summary line when the window ends ("... (repeated N times)",
 * field `repeated`). Debug and info lines pass through untouched.
 */

export interface RateLimitedLog extends Log {
  /** Writes the summary of every repeat counted so far, now. */
  flush(): void;
  /** `flush()`, then stops the timer. Lines logged afterwards pass through unsummarised. */
  close(): void;
}

export interface RateLimitOptions {
  readonly windowMs: number;
  /**
   * Fields that tell two events apart beside the message (other fields, such as offsets or
   * counts, vary between repeats of the same problem). An error-like value contributes its
   * `code` and `message`.
   */
  readonly keyFields?: readonly string[];
  /** Distinct keys tracked at most; the oldest is summarised and forgotten past it. */
  readonly maxKeys?: number;
  /** Milliseconds clock (tests). */
  readonly now?: () => number;
}

export const DEFAULT_KEY_FIELDS = ['path', 'file', 'reason', 'code', 'status', 'source', 'host', 'url', 'err', 'error'];

type Level = 'warn' | 'error';

interface Entry {
  readonly level: Level;
  readonly message: string;
  readonly start: number;
  suppressed: number;
  last: object;
}

function keyPart(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  const { code, message } = value as { code?: unknown; message?: unknown };
  return `${String(code)}:${String(message)}`;
}

export function createRateLimitedLog(log: Log, options: RateLimitOptions): RateLimitedLog {
  const { windowMs } = options;
  const keyFields = options.keyFields ?? DEFAULT_KEY_FIELDS;
  const maxKeys = options.maxKeys ?? 1000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const summarise = (entry: Entry): void => {
    if (entry.suppressed === 0) return;
    const n = entry.suppressed;
    entry.suppressed = 0;
    log[entry.level]({ ...entry.last, repeated: n, windowMs }, `${entry.message} (repeated ${n} ${n === 1 ? 'time' : 'times'})`);
  };

  /** Summarises and forgets the entries whose window is over (all of them when `all`). */
  const sweep = (all: boolean): void => {
    const t = now();
    for (const [key, entry] of entries) {
      if (all || t - entry.start >= windowMs) {
        summarise(entry);
        entries.delete(key);
      }
    }
  };

  const arm = (): void => {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      sweep(false);
      // Entries still inside their window may hold repeats: come back when they end.
      for (const entry of entries.values()) {
        if (entry.suppressed > 0) {
          arm();
          break;
        }
      }
    }, windowMs);
    timer.unref();
  };

  const limited = (level: Level) => (fields: object, message: string): void => {
    if (closed) {
      log[level](fields, message);
      return;
    }
    let key = `${level}\u0000${message}`;
    const record = fields as Record<string, unknown>;
    for (const name of keyFields) if (record[name] !== undefined) key += `\u0000${name}=${keyPart(record[name])}`;
    const t = now();
    const entry = entries.get(key);
    if (entry !== undefined && t - entry.start < windowMs) {
      entry.suppressed += 1;
      entry.last = fields;
      arm();
      return;
    }
    if (entry !== undefined) {
      summarise(entry);
      entries.delete(key);
    } else if (entries.size >= maxKeys) {
      sweep(false);
      const oldest = entries.entries().next().value;
      if (entries.size >= maxKeys && oldest !== undefined) {
        summarise(oldest[1]);
        entries.delete(oldest[0]);
      }
    }
    entries.set(key, { level, message, start: t, suppressed: 0, last: fields });
    log[level](fields, message);
  };

  return {
    debug: (fields, message) => log.debug(fields, message),
    info: (fields, message) => log.info(fields, message),
    warn: limited('warn'),
    error: limited('error'),
    flush() {
      for (const entry of entries.values()) summarise(entry);
    },
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      sweep(true);
    },
  };
}
