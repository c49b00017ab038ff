/**
 * Elasticsearch's index name rules, as `MetadataCreateIndexService.validateIndexOrAliasName`
 * (server/src/main/java/org/elasticsearch/cluster/metadata/MetadataCreateIndexService.java) and
 * the "Create index API" page ("Index names must meet the following criteria") state them:
 * lowercase; none of `\ / * ? " < > |`, space, `,` or `#`; not starting with `-`, `_` or `+`;
 * not `.` or `..`; at most 255 bytes. Returns the reason of the `invalid_index_name_exception`,
 * or undefined for a valid name.
 */
export function invalidIndexName(name: string): string | undefined {
  const invalid = `Invalid index name [${name}]`;
  if (name !== name.toLowerCase()) return `${invalid}, must be lowercase`;
  // Strings.INVALID_FILENAME_CHARS, printed as Java prints the set.
  if (/[\\/*?"<>| ,]/.test(name)) return `${invalid}, must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]`;
  if (name.includes('#')) return `${invalid}, must not contain '#'`;
  if (/^[-_+]/.test(name)) return `${invalid}, must not start with '_', '-', or '+'`;
  if (name === '.' || name === '..') return `${invalid}, must not be '.' or '..'`;
  if (Buffer.byteLength(name) > 255) return `${invalid}, index name is too long, (${Buffer.byteLength(name)} > 255)`;
  return undefined;
}
