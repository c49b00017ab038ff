import type { InputProblem } from './observer.ts';

/** Every error nodetail raises on purpose, each with a stable `code`. */

export class NodetailError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A setting is wrong: start-up stops with this message, which names the key. */
export class ConfigError extends NodetailError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('NODETAIL_CONFIG', `configuration: ${key}: ${message}`);
    this.key = key;
  }
}

/** The agent is shutting down: work in progress is abandoned and not acknowledged. */
export class ShutdownError extends NodetailError {
  constructor() {
    super('NODETAIL_SHUTDOWN', 'shutting down');
  }
}

/** Why a matched path is not read (a label of nodetail_input_problems_total). */
export type ReadRefusal = Extract<InputProblem, 'outside_log_roots' | 'special_file' | 'protected_path'>;

/** A matched path is not read: it leads out of the log roots, to a protected path or to no regular file. */
export class ReadRefusedError extends NodetailError {
  readonly reason: ReadRefusal;
  /** Where the path really leads. */
  readonly real: string;
  constructor(path: string, real: string, reason: ReadRefusal) {
    super('NODETAIL_READ_REFUSED', `${path} leads to ${real}: not read (${reason})`);
    this.reason = reason;
    this.real = real;
  }
}
