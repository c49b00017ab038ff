/** What `GET /` says about the server. */
export interface ServerInfo {
  readonly flavour: 'elasticsearch' | 'opensearch' | 'unknown';
  readonly version: string;
  readonly major: number;
}

/**
 * Elasticsearch and OpenSearch both answer `GET /` with `version.number`; OpenSearch adds
 * `version.distribution: "opensearch"`, Elasticsearch (since 7.14) the `x-elastic-product`
 * header. Anything else (an older Elasticsearch, a proxy that drops headers) is `unknown`:
 * the `_bulk` path works the same, only Elasticsearch-only set-up is skipped.
 */
export function detectServer(headers: Readonly<Record<string, string | string[] | undefined>>, body: string): ServerInfo | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const v = (parsed as { version?: { number?: unknown; distribution?: unknown } } | null)?.version;
  if (v === undefined || v === null || typeof v.number !== 'string') return undefined;
  const major = Number.parseInt(v.number, 10);
  const flavour = v.distribution === 'opensearch' ? 'opensearch' : headers['x-elastic-product'] === 'Elasticsearch' ? 'elasticsearch' : 'unknown';
  return { flavour, version: v.number, major: Number.isNaN(major) ? 0 : major };
}
