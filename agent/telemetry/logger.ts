import { pino, type DestinationStream } from 'pino';
import type { Log } from '../core/log.ts';

/**
 * The one file that imports pino: the agent's self-log, JSON lines, one object per event.
 * Secrets are kept out three ways: keys that look secret are censored by pino's redaction,
 * `user:password@` in URLs is censored in every line, and the configured secret values
 * themselves (`secrets`) are censored wherever they appear, in case one slips into a message.
 */

export interface Logger extends Log {
  /** A logger whose every line carries `bindings` (such as `{ component: 'sink' }`). */
  child(bindings: object): Logger;
  /** Writes out anything buffered; call before exiting. */
  flush(): void;
}

/** Where lines go instead of stdout/stderr (tests). Receives whole lines, each ending in `\n`. */
export interface LineSink {
  write(line: string): unknown;
}

export interface LoggerOptions {
  readonly level: string;
  /** stderr when the records themselves go to stdout, so that the two never mix. */
  readonly destination: 'stdout' | 'stderr';
  /** More key paths to censor, in pino's syntax (`a.b`, `*.c`). */
  readonly redact?: readonly string[];
  /**
   * Secret values (password, API key...) censored wherever they appear in a line. Values shorter
   * than `MIN_SECRET_LENGTH` are skipped: censoring them would mangle every line.
   */
  readonly secrets?: readonly (string | undefined)[];
  /** Replaces `destination` (tests). */
  readonly stream?: LineSink;
}

export const CENSOR = '<redacted>';
export const MIN_SECRET_LENGTH = 4;

/** Keys whose values are never logged, at the top level and up to two objects deep. */
const SECRET_KEYS = [
  'password', 'passwd', 'apiKey', 'api_key', 'apikey', 'token', 'bearerToken', 'bearer_token',
  'authorization', 'Authorization', 'cookie', 'secret', 'secrets', 'privateKey', 'private_key',
];
const SECRET_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

/**
 * `scheme://user:password@host`: the password part, up to the last `@` (a password may hold an
 * unescaped `/` or `@`; mirrors redactUrl in agent/config).
 */
const URL_PASSWORD = /(\/\/[^/@:\s"]*):[^\s"]*@/g;

const escape = (text: string): string => JSON.stringify(text).slice(1, -1);

/**
 * The literal forms a secret can take in a JSON line: as is, JSON-escaped, and escaped twice
 * (a JSON document, such as a request body, logged as a string field).
 */
function secretForms(secrets: readonly (string | undefined)[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret).add(escape(secret)).add(escape(escape(secret)));
  }
  // Longest first, so a secret that contains another is censored whole.
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Censors each line on its way out. Self-log lines are few, so a scan per line is cheap. */
function censoring(out: LineSink, secrets: readonly string[]): DestinationStream {
  return {
    write(line: string) {
      let clean = line.includes('@') ? line.replace(URL_PASSWORD, `$1:${CENSOR}@`) : line;
      for (const secret of secrets) if (clean.includes(secret)) clean = clean.replaceAll(secret, CENSOR);
      out.write(clean);
    },
  };
}

function wrap(instance: pino.Logger, flushOut: () => void): Logger {
  return {
    debug: (fields, message) => instance.debug(fields, message),
    info: (fields, message) => instance.info(fields, message),
    warn: (fields, message) => instance.warn(fields, message),
    error: (fields, message) => instance.error(fields, message),
    child: (bindings) => wrap(instance.child(bindings), flushOut),
    flush: flushOut,
  };
}

export function createLogger(options: LoggerOptions): Logger {
  // Synchronous writes: self-log lines are rare (never one per input line), and a line written
  // just before a crash or process.exit must not be lost in a buffer.
  let out: LineSink;
  let flushOut = (): void => {};
  if (options.stream !== undefined) {
    out = options.stream;
  } else {
    const file = pino.destination({ fd: options.destination === 'stdout' ? 1 : 2, sync: true });
    out = file;
    flushOut = () => file.flushSync();
  }
  const instance = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      redact: { paths: [...SECRET_PATHS, ...(options.redact ?? [])], censor: CENSOR },
    },
    censoring(out, secretForms(options.secrets ?? [])),
  );
  return wrap(instance, flushOut);
}
