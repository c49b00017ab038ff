import type { Decoder, Emit } from '../core/decoder.ts';
import type { DecodeError, LogFile } from '../core/record.ts';
import type { Joiner } from './joiner.ts';
import { makeRecord } from './make-record.ts';
import { MessageText } from './message-text.ts';
import { StreamJoiners } from './stream-joiners.ts';

/** What the CRI and docker decoders share: a record being joined per stream, and bad lines. */
export abstract class JoiningDecoder<J extends Joiner> implements Decoder {
  protected readonly file: LogFile;
  protected readonly max: number;
  protected readonly text = new MessageText();
  protected readonly joiners: StreamJoiners<J>;
  /** End of the last line seen: where a flush leaves the file. */
  protected seen = 0;

  constructor(file: LogFile, maxRecordBytes: number, stdout: J, stderr: J) {
    this.file = file;
    this.max = maxRecordBytes;
    this.joiners = new StreamJoiners(stdout, stderr);
  }

  abstract line(buf: Buffer, from: number, to: number, start: number, end: number, cut: boolean, readTime: string, emit: Emit): void;

  pending(): number | undefined {
    const first = this.joiners.safeResume();
    return first < 0 ? undefined : first;
  }

  heldBytes(): number {
    return this.joiners.stdout.held() + this.joiners.stderr.held();
  }

  flush(_readTime: string, emit: Emit, incomplete = false): void {
    this.joiners.flush(this.file, this.seen, emit, incomplete ? 'incomplete' : undefined);
  }

  /** A line that is not in the file's format ships as it is, flagged; records being joined are left alone. */
  protected malformed(buf: Buffer, from: number, to: number, start: number, end: number, cut: boolean, readTime: string,
    error: DecodeError, emit: Emit): void {
    const text = this.text;
    text.read(buf, from, to, this.max, cut);
    emit(makeRecord(this.file, start, this.joiners.resume(start, end), readTime, undefined, text.take(), text.truncated, error));
  }
}
