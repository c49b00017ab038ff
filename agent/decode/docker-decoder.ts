import type { Emit } from '../core/decoder.ts';
import type { LogFile } from '../core/record.ts';
import { DockerLine } from './docker-line.ts';
import { JoiningDecoder } from './joining-decoder.ts';
import { makeRecord } from './make-record.ts';
import { TextJoiner } from './text-joiner.ts';

/**
 * docker json-file logs: one JSON object per line. Docker cuts messages at 16 KiB; a chunk whose
 * `log` does not end in `\n` is joined with the next chunks of its stream up to one that does.
 * A line that is not JSON of that shape ships whole, flagged `malformed_docker`; so does the
 * message of a line whose `time` is not RFC 3339, timed when it was read.
 */
export class DockerDecoder extends JoiningDecoder<TextJoiner> {
  private readonly fields = new DockerLine();

  constructor(file: LogFile, maxRecordBytes: number) {
    super(file, maxRecordBytes, new TextJoiner(maxRecordBytes), new TextJoiner(maxRecordBytes));
  }

  line(buf: Buffer, from: number, to: number, start: number, end: number, cut: boolean, readTime: string, emit: Emit): void {
    this.seen = end;
    const fields = this.fields;
    // A line the tailer cut has lost its closing brace: it cannot be read as JSON.
    if (cut || !fields.parse(buf, from, to)) {
      this.malformed(buf, from, to, start, end, cut, readTime, 'malformed_docker', emit);
      return;
    }
    // A time Elasticsearch would refuse: the record is timed when read and flagged; the flag wins
    // over invalid UTF-8 because a replaced time also moves the record to another day's index.
    const time = fields.timeValid ? fields.time : readTime;
    const timeError = fields.timeValid ? undefined : 'malformed_docker';
    const joiner = this.joiners.of(fields.stream);
    if (joiner.start < 0 && !fields.partial) {
      const text = this.text;
      text.readString(fields.takeLog(), this.max);
      emit(makeRecord(this.file, start, this.joiners.resume(start, end), time, fields.stream, text.take(), text.truncated,
        timeError ?? (fields.invalid ? 'invalid_utf8' : undefined)));
      return;
    }
    // A joined record takes its first part's time; the times of later parts are not used.
    if (joiner.start < 0) joiner.begin(start, time, timeError);
    joiner.add(fields.takeLog());
    if (fields.invalid) joiner.invalid = true;
    if (!fields.partial) this.joiners.emit(this.file, fields.stream, end, emit);
  }
}
