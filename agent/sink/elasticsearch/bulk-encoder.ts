import type { LogRecord } from '../../core/record.ts';
import type { IndexNamer } from './index-namer.ts';

/**
 * The encode stage: one record to one `_bulk` item, the action line and the document, each
 * ending in `\n`, so a batch body is the plain concatenation of its items.
 *
 * With deterministic ids the action is `create` with `_id` = file id prefix + `-` + byte offset
 * in base 36: the same line of the same file always gets the same `_id`, so a replay after a
 * crash is answered 409 and indexes nothing twice. Without them it is still `create`, with no
 * `_id` (Elasticsearch makes one): a data stream takes only `create`, and any index name may be one
 * (every `logs-*-*` name is, with Elasticsearch's built-in template from 7.9 on), while a plain
 * index takes a `create` without `_id` as it takes an `index`.
 * `_type` is never sent: Elasticsearch 8 and OpenSearch 2 reject it.
 */
export function createBulkEncoder(
  options: { readonly deterministicIds: boolean },
  indexFor: IndexNamer,
  encodeDocument: (record: LogRecord) => string,
): (record: LogRecord) => string {
  // The action line differs per record only by index and id; index names are safe JSON
  // (Elasticsearch forbids `"` and `\` in them) and ids are [0-9a-z-] plus the file's prefix,
  // which is stringified once per file.
  let lastIndex = '';
  let lastIndexJson = '""';
  let lastPrefix: string | undefined;
  let lastPrefixJson = '';
  const indexJson = (index: string): string => {
    if (index !== lastIndex) {
      lastIndex = index;
      lastIndexJson = JSON.stringify(index);
    }
    return lastIndexJson;
  };
  if (options.deterministicIds) {
    return (record) => {
      const prefix = record.file.idPrefix;
      if (prefix !== lastPrefix) {
        lastPrefix = prefix;
        lastPrefixJson = JSON.stringify(`${prefix}-`).slice(0, -1);
      }
      return `{"create":{"_index":${indexJson(indexFor(record))},"_id":${lastPrefixJson}${record.offset.toString(36)}"}}\n${encodeDocument(record)}\n`;
    };
  }
  return (record) => `{"create":{"_index":${indexJson(indexFor(record))}}}\n${encodeDocument(record)}\n`;
}
