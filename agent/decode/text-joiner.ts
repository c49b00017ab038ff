import { Joiner } from './joiner.ts';
import type { MessageText } from './message-text.ts';

/**
 * The chunks of one docker json-file record being joined (16 KiB splits of one stream), as the
 * strings JSON gave. Holds at most `max` UTF-8 bytes; once over, the rest is dropped.
 */
export class TextJoiner extends Joiner {
  /** Some chunk's line was not valid UTF-8. */
  invalid = false;
  private parts: string[] = [];
  private size = 0;

  add(text: string): void {
    if (this.truncated) return;
    const n = Buffer.byteLength(text, 'utf8');
    if (this.size + n <= this.max) {
      this.parts.push(text);
      this.size += n;
      return;
    }
    this.out.readString(this.parts.join('') + text, this.max);
    this.parts = [this.out.text];
    this.size = this.max;
    this.truncated = true;
  }

  held(): number {
    return this.size;
  }

  finish(): MessageText {
    const out = this.out;
    out.text = this.parts.length === 1 ? (this.parts[0] as string) : this.parts.join('');
    out.truncated = this.truncated;
    out.invalid = this.invalid;
    this.invalid = false;
    this.parts = [];
    this.size = 0;
    this.reset();
    return out;
  }
}
