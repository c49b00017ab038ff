/**
 * What Elasticsearch accepts as an index or data stream name (MetadataCreateIndexService.
 * validateIndexOrAliasName; the "Create index API" page): lowercase; none of `\ / * ? " < > |`, a
 * comma, `#` or a space; not starting with `-`, `_` or `+`; not `.` or `..`; at most 255 bytes.
 * A name that breaks them is refused for every record (400 invalid_index_name_exception), so the
 * settings that make names are checked with these rules at start-up. Returns what is wrong, or
 * undefined for a name Elasticsearch takes.
 */
export function indexNameProblem(name: string): string | undefined {
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (/[\\/*?"<>|,# ]/.test(name)) return 'must not contain \\ / * ? " < > | , # or a space';
  if (/^[-_+]/.test(name)) return 'must not start with -, _ or +';
  if (name === '.' || name === '..') return "must not be '.' or '..'";
  // A data stream's backing indices add `.ds-` and `-yyyy.MM.dd-000001` (22 bytes) to its name.
  if (Buffer.byteLength(name) > 255 - 22) return 'must be at most 233 bytes (255 with the longest name Elasticsearch derives from it)';
  return undefined;
}
