import type { Decoder } from '../core/decoder.ts';
import type { LogFile, LogFormat } from '../core/record.ts';
import { CriDecoder } from './cri-decoder.ts';
import { DockerDecoder } from './docker-decoder.ts';
import { PlainDecoder } from './plain-decoder.ts';

/** The decoder for one file. `maxRecordBytes`: longest message kept, in UTF-8 bytes (at least 4, one character). */
export function createDecoder(format: LogFormat, file: LogFile, maxRecordBytes: number): Decoder {
  const max = Number.isFinite(maxRecordBytes) ? Math.max(4, Math.floor(maxRecordBytes)) : 4;
  switch (format) {
    case 'cri': return new CriDecoder(file, max);
    case 'docker': return new DockerDecoder(file, max);
    case 'plain': return new PlainDecoder(file, max);
  }
}
