/**
 * The self-log as stages see it. `agent/telemetry/logger.ts` makes one with pino; stages never
 * import pino. Never pass a secret or a log line's content in `fields`.
 */
export interface Log {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const nullLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
