import type { estypes } from '@elastic/elasticsearch';
import type { ElasticsearchConfig } from '../../config/load-config.ts';
import { DOCUMENT_MAPPINGS } from '../../core/document-mappings.ts';
import type { TlsFiles } from './bulk-transport.ts';

/**
 * The composable index template (Elasticsearch >= 7.8) for nodetail's indices: the fields of the
 * schema's documents (`@timestamp` a date, the message full text; `log` is the message in the
 * fluentd schema but an object in ECS), and every string under `kubernetes.*` a keyword, so labels,
 * pod and namespace names aggregate in Kibana instead of being analysed.
 */
export function indexTemplate(config: Pick<ElasticsearchConfig, 'indexMode' | 'indexName' | 'logstashPrefix' | 'dataStreamDataset'>, schema: 'fluentd' | 'ecs'): estypes.IndicesPutIndexTemplateRequest {
  const dataStream = config.indexMode === 'data_stream';
  const pattern = dataStream ? `logs-${config.dataStreamDataset}-*` : config.indexMode === 'index' ? config.indexName : `${config.logstashPrefix}-*`;
  return {
    name: dataStream ? `nodetail-logs-${config.dataStreamDataset}` : config.indexMode === 'index' ? `nodetail-${config.indexName}` : `nodetail-${config.logstashPrefix}`,
    index_patterns: [pattern],
    // Above Elasticsearch's built-in `logs` template (priority 100, `logs-*-*`), or it would win.
    priority: 200,
    ...(dataStream ? { data_stream: {} } : {}),
    _meta: { managed_by: 'nodetail' },
    template: {
      mappings: {
        dynamic_templates: [
          { kubernetes_strings: { path_match: 'kubernetes.*', match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } } },
        ],
        properties: DOCUMENT_MAPPINGS[schema] as Record<string, estypes.MappingProperty>,
      },
    },
  };
}

/**
 * Installs the template with the official client, which is good at this (typed requests,
 * Elasticsearch's error shapes) and is used only here, off the hot path. The `_bulk` path does
 * not use it: the client sends `compatible-with=<its major>` media types (9 here), which
 * Elasticsearch 8 rejects and 7.x / OpenSearch answer 406, and it refuses any answer without
 * `x-elastic-product: Elasticsearch`, that is, OpenSearch. Here we send plain
 * `application/json` instead of its vendored media types, so the one call works on 7.17, 8
 * and 9; the caller skips it for OpenSearch, which the client would refuse anyway.
 */
export async function installIndexTemplate(
  target: { readonly url: string; readonly authorization: string | undefined; readonly tls: TlsFiles; readonly timeoutMs: number },
  template: estypes.IndicesPutIndexTemplateRequest,
): Promise<void> {
  const { ca, cert, key, rejectUnauthorized } = target.tls;
  // Loaded on first use: the client takes ~350 ms to import, and a crash-looping agent must start fast.
  const { Client } = await import('@elastic/elasticsearch');
  const client = new Client({
    node: target.url,
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      ...(target.authorization === undefined ? {} : { authorization: target.authorization }),
    },
    tls: { rejectUnauthorized, ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) },
    requestTimeout: target.timeoutMs,
    maxRetries: 0,
  });
  try {
    await client.indices.putIndexTemplate(template);
  } finally {
    await client.close();
  }
}
