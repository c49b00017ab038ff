import type { DecodeError } from '../core/record.ts';
import { MessageText } from './message-text.ts';

/** The parts of one record being joined on one stream; idle while `start` is -1. */
export abstract class Joiner {
  /** File offset of the first part's line, or -1 when nothing is being joined. */
  start = -1;
  /** The first part's timestamp: the record's time. */
  time = '';
  /** Set when the first part's time was not valid and `time` is the read time instead. */
  error: DecodeError | undefined = undefined;
  protected readonly max: number;
  protected truncated = false;
  protected readonly out = new MessageText();

  constructor(max: number) {
    this.max = max;
  }

  begin(start: number, time: string, error?: DecodeError): void {
    this.start = start;
    this.time = time;
    this.error = error;
  }

  /** Bytes of the parts held. */
  abstract held(): number;

  /** The joined message; the joiner is idle again afterwards. */
  abstract finish(): MessageText;

  protected reset(): void {
    this.start = -1;
    this.time = '';
    this.error = undefined;
    this.truncated = false;
  }
}
