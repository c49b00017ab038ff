import type { Emit } from '../core/decoder.ts';
import type { LogFile } from '../core/record.ts';
import { ByteJoiner } from './byte-joiner.ts';
import { CriLine } from './cri-line.ts';
import { JoiningDecoder } from './joining-decoder.ts';
import { makeRecord } from './make-record.ts';

/**
 * CRI log files (containerd, CRI-O): `<time> <stream> <P|F> <message>`. `P` lines are joined per
 * stream up to and including the next `F` of that stream (kubelet's CRI logging format).
 */
export class CriDecoder extends JoiningDecoder<ByteJoiner> {
  private readonly fields = new CriLine();

  constructor(file: LogFile, maxRecordBytes: number) {
    super(file, maxRecordBytes, new ByteJoiner(maxRecordBytes), new ByteJoiner(maxRecordBytes));
  }

  line(buf: Buffer, from: number, to: number, start: number, end: number, cut: boolean, readTime: string, emit: Emit): void {
    this.seen = end;
    const fields = this.fields;
    if (!fields.scan(buf, from, to)) {
      this.malformed(buf, from, to, start, end, cut, readTime, 'malformed_cri', emit);
      return;
    }
    const joiner = this.joiners.of(fields.stream);
    if (joiner.start < 0) {
      if (fields.partial) {
        joiner.begin(start, fields.time);
        joiner.add(buf, fields.message, to, cut);
        return;
      }
      // The common case: a whole record on one line, read straight from the buffer.
      const text = this.text;
      text.read(buf, fields.message, to, this.max, cut);
      emit(makeRecord(this.file, start, this.joiners.resume(start, end), fields.time, fields.stream, text.take(), text.truncated,
        text.invalid ? 'invalid_utf8' : undefined));
      return;
    }
    joiner.add(buf, fields.message, to, cut);
    if (!fields.partial) this.joiners.emit(this.file, fields.stream, end, emit);
  }
}
