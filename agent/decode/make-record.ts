import type { DecodeError, LogFile, LogRecord, Stream } from '../core/record.ts';

/**
 * Every record is built here, with its fields always in the same order, so that all records share
 * one hidden class and the stages after decode stay monomorphic.
 */
export function makeRecord(
  file: LogFile,
  offset: number,
  resume: number,
  time: string,
  stream: Stream | undefined,
  message: string,
  truncated: boolean,
  error: DecodeError | undefined,
): LogRecord {
  return { file, offset, resume, time, stream, message, truncated, error };
}
