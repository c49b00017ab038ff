import type { Decoder, Emit } from '../core/decoder.ts';
import type { LogFile } from '../core/record.ts';
import { HostTime } from './host-time.ts';
import { makeRecord } from './make-record.ts';
import { MessageText } from './message-text.ts';

/**
 * Host logs and anything else without a known format: one line, one record, timed by the time the
 * line starts with (syslog's), or when read.
 */
export class PlainDecoder implements Decoder {
  private readonly file: LogFile;
  private readonly max: number;
  private readonly text = new MessageText();
  private readonly time = new HostTime();

  constructor(file: LogFile, maxRecordBytes: number) {
    this.file = file;
    this.max = maxRecordBytes;
  }

  line(buf: Buffer, from: number, to: number, start: number, end: number, cut: boolean, readTime: string, emit: Emit): void {
    // CRLF files: the `\r` belongs to the line ending, not the message (unless the tailer cut the
    // line, and the byte is then somewhere in the middle of it).
    if (!cut && to > from && buf[to - 1] === 0x0d) to--;
    const text = this.text;
    text.read(buf, from, to, this.max, cut);
    const time = this.time.of(buf, from, to, readTime) ?? readTime;
    emit(makeRecord(this.file, start, end, time, undefined, text.take(), text.truncated, text.invalid ? 'invalid_utf8' : undefined));
  }

  pending(): undefined {
    return undefined;
  }

  heldBytes(): number {
    return 0;
  }

  flush(): void {
    // Nothing is ever held back: every line is a record.
  }
}
