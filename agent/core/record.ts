/**
 * The record: one log entry read from one file, and the file it came from.
 * Field names that reach the output are defined once, in `agent/enrich/document-encoder.ts`.
 */

/** Where a file was found; a bounded label value for metrics. */
export type SourceKind = 'containers' | 'pods' | 'docker' | 'host';

/** The container stream a line was written to; host logs have none. */
export type Stream = 'stdout' | 'stderr';

/** The on-disk format of a file, detected from its path and first line. */
export type LogFormat = 'cri' | 'docker' | 'plain';

/** What the path of a container log says about its pod (see enrich/path-metadata.ts). */
export interface PathMetadata {
  readonly namespace?: string;
  readonly pod?: string;
  readonly podUid?: string;
  readonly container?: string;
  readonly containerId?: string;
  readonly restartCount?: number;
}

/**
 * One file identity (device + inode, confirmed by a fingerprint of its first bytes).
 * Every record of the file shares this object, so per-file work is done once.
 */
export interface LogFile {
  /** `<dev>:<ino>`: the checkpoint key. */
  readonly key: string;
  /** Prefix of every record's `_id`: stable for this file's content across restarts and renames. */
  readonly idPrefix: string;
  /** The path the file was opened at (after symlinks are resolved). */
  readonly path: string;
  /** The path discovery matched (a /var/log/containers link, say); equals `path` when no link. */
  readonly matchedPath: string;
  readonly source: SourceKind;
  readonly meta: PathMetadata;
}

/** Why a line could not be decoded as its format says; such a line still ships, flagged. */
export type DecodeError = 'malformed_cri' | 'malformed_docker' | 'invalid_utf8' | 'incomplete';

export interface LogRecord {
  readonly file: LogFile;
  /** Byte offset of the record's first byte in the file: with `file.idPrefix`, its identity. */
  readonly offset: number;
  /**
   * The offset to resume from once this record and every record before it is acknowledged.
   * Usually the end of the record's last line; earlier when another stream's partial line is
   * still being joined, so that a crash never skips it.
   */
  readonly resume: number;
  /** RFC 3339 timestamp: the line's own, or the time it was read when the line has none. */
  readonly time: string;
  readonly stream: Stream | undefined;
  readonly message: string;
  /** The record was longer than the maximum record size and was cut. */
  readonly truncated: boolean;
  /** Set when the line did not match its file's format; the raw line is the message. */
  readonly error: DecodeError | undefined;
}
