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
