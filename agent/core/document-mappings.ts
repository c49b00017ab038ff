/**
 * The Elasticsearch mappings of the documents each schema writes (`agent/enrich/document-encoder.ts`
 * builds them): what the index template states explicitly. A field that is an object in the
 * documents must be an object here, and a string a string type: Elasticsearch refuses every
 * document whose shape disagrees with its mapping (an object where the template says `text` is a
 * 400 "failed to parse field [log] of type [text]" for each record).
 */
export type MappingProperties = Readonly<Record<string, { readonly type: string } | { readonly properties: MappingProperties }>>;

const keyword = { type: 'keyword' } as const;

export const DOCUMENT_MAPPINGS: Readonly<Record<'fluentd' | 'ecs', MappingProperties>> = {
  // {"log", "stream", "@timestamp", "truncated", "decode_error", "docker":{...}, "kubernetes":{...}}; host lines add "host", "path".
  fluentd: {
    '@timestamp': { type: 'date' },
    log: { type: 'text' },
    stream: keyword,
    truncated: { type: 'boolean' },
    decode_error: keyword,
    host: keyword,
    path: keyword,
    docker: { properties: { container_id: keyword } },
  },
  // Elastic Common Schema: `log` is an object (log.file.path, log.flags), as are host, error and container.
  ecs: {
    '@timestamp': { type: 'date' },
    message: { type: 'text' },
    stream: keyword,
    log: { properties: { file: { properties: { path: keyword } }, flags: keyword } },
    host: { properties: { name: keyword } },
    error: { properties: { type: keyword } },
    container: { properties: { id: keyword, image: { properties: { name: keyword } } } },
  },
};
