import type { LogFile, LogRecord } from '../../../../agent/core/record.ts';

/** A file and its records, as the tail and decode stages would make them. */
export function logFile(idPrefix = 'f1a2b3'): LogFile {
  return { key: '64768:1234', idPrefix, path: '/var/log/pods/ns_pod_uid/c/0.log', matchedPath: '/var/log/containers/pod_ns_c-abc.log', source: 'containers', meta: { namespace: 'ns', pod: 'pod', container: 'c' } };
}

export function logRecord(file: LogFile, offset: number, time = '2024-03-05T10:11:12.123456789Z', message = `line at ${offset}`): LogRecord {
  return { file, offset, resume: offset + message.length + 1, time, stream: 'stdout', message, truncated: false, error: undefined };
}
