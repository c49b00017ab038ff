import type { TemplateMappings } from './mappings.ts';

/** What the fake reads of a composable index template (`PUT /_index_template/<name>`). */
export interface IndexTemplate {
  readonly index_patterns?: string | readonly string[];
  readonly priority?: number;
  readonly data_stream?: unknown;
  readonly template?: { readonly mappings?: TemplateMappings };
}

/**
 * Elasticsearch's built-in `logs` template (priority 100, `logs-*-*`, a data stream), installed by
 * the stack templates from 7.9 on (x-pack/plugin/core/src/main/resources/logs-template.json, and
 * logs-mappings.json / logs@mappings.json for its mappings: `@timestamp` a date, the
 * `data_stream.*` fields constant keywords, `date_detection` off). OpenSearch has none.
 */
export const BUILT_IN_LOGS_TEMPLATE: IndexTemplate = {
  index_patterns: ['logs-*-*'],
  priority: 100,
  data_stream: {},
  template: {
    mappings: {
      date_detection: false,
      properties: {
        '@timestamp': { type: 'date' },
        data_stream: { properties: { type: { type: 'constant_keyword' }, dataset: { type: 'constant_keyword' }, namespace: { type: 'constant_keyword' } } },
      },
    },
  },
};

function patternMatches(pattern: string, name: string): boolean {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name);
}

/**
 * The one template that applies to a new index: among those whose patterns match, the highest
 * `priority` wins (MetadataIndexTemplateService.findV2Template; composable templates never merge).
 */
export function matchingTemplate(templates: Iterable<unknown>, name: string): IndexTemplate | undefined {
  let best: IndexTemplate | undefined;
  for (const t of templates) {
    const template = t as IndexTemplate;
    const patterns = typeof template.index_patterns === 'string' ? [template.index_patterns] : (template.index_patterns ?? []);
    if (!patterns.some((p) => patternMatches(p, name))) continue;
    if (best === undefined || (template.priority ?? 0) > (best.priority ?? 0)) best = template;
  }
  return best;
}
