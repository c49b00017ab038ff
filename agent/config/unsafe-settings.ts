import type { UnsafeSettingName } from '../core/observer.ts';
import type { ElasticsearchConfig } from './load-config.ts';

export interface UnsafeSetting {
  readonly setting: UnsafeSettingName;
  /** The hosts concerned (origins: never credentials). */
  readonly hosts: readonly string[];
  /** What it risks, for the start-up warning. */
  readonly message: string;
}

/**
 * The settings in force that weaken security, each announced at start-up, in the start line and
 * as a gauge: `elasticsearch_tls_verify: false` (often copied from Fluentd manifests as
 * `FLUENT_ELASTICSEARCH_SSL_VERIFY=false`) connects to anyone who answers on the way, and
 * credentials sent over plain `http://` can be read by anyone on the way.
 */
export function unsafeSettings(es: ElasticsearchConfig | undefined): UnsafeSetting[] {
  if (es === undefined) return [];
  const found: UnsafeSetting[] = [];
  const https = es.urls.filter((u) => u.protocol === 'https:').map((u) => u.origin);
  if (!es.tlsVerify && https.length > 0) {
    found.push({
      setting: 'tls_verify_off',
      hosts: https,
      message: 'TLS certificates of Elasticsearch are NOT verified (elasticsearch_tls_verify / NODETAIL_ELASTICSEARCH_TLS_VERIFY / FLUENT_ELASTICSEARCH_SSL_VERIFY is false): anyone on the network path can pose as these hosts and receive every record and the credentials. Set elasticsearch_ca_file instead',
    });
  }
  const credentials = es.username !== undefined || es.apiKey !== undefined || es.bearerTokenFile !== undefined || es.urls.some((u) => u.username !== '');
  const http = es.urls.filter((u) => u.protocol === 'http:').map((u) => u.origin);
  if (credentials && http.length > 0) {
    found.push({
      setting: 'credentials_over_http',
      hosts: http,
      message: 'Elasticsearch credentials are sent over plain http://: anyone on the network path can read them. Use https://',
    });
  }
  return found;
}
