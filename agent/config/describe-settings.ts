import { redactUrl, settingSources, type Config } from './load-config.ts';
import { OPTIONS, type OptionSpec } from './options.ts';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `--check-config`: every setting as the agent will use it, one per line, with where its value
 * came from (default, the YAML file, or which variable), so an operator sees which of several
 * sources won. Secrets are shown as `<redacted>`, passwords in URLs too. `config` is the checked
 * result of the same arguments and environment: what only shows once resolved comes from it.
 */
export function describeSettings(argv: readonly string[], env: Env, config: Config): string {
  const sources = settingSources(argv, env);
  const rows = OPTIONS.map((spec: OptionSpec): [string, string, string] => {
    const raw = sources.get(spec.key as never);
    const shown = (v: string): string => (spec.secret ? '<redacted>' : spec.key === 'elasticsearch_url' ? redactUrl(v) : v);
    if (raw !== undefined) {
      const value = Array.isArray(raw.value) ? raw.value.join(',') : (raw.value as string);
      const from = raw.from === spec.key ? 'default' : raw.from.includes(': ') ? `file ${raw.from.slice(0, raw.from.indexOf(': '))}` : `env ${raw.from}`;
      return [spec.key, value === '' ? '(empty)' : shown(value), from];
    }
    return [spec.key, ...resolvedOnly(spec, config, env)];
  });
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  const valueWidth = Math.min(60, Math.max(...rows.map((r) => r[1].length))) + 2;
  const output = config.elasticsearch === undefined ? 'stdout (no elasticsearch_url)' : `elasticsearch ${config.elasticsearch.urls.map((u) => redactUrl(u.href)).join(', ')}`;
  const line = (key: string, value: string, from: string) => `${key.padEnd(width)}${value}${' '.repeat(Math.max(2, valueWidth - value.length))}${from}`;
  return [`configuration is valid; output: ${output}`, '', line('key', 'value', 'from'), ...rows.map((r) => line(...r)), ''].join('\n');
}

/** A setting with no value of its own: unset, or one the agent works out (the hostname, Fluentd's URL parts, a secret file). */
function resolvedOnly(spec: OptionSpec, config: Config, env: Env): [string, string] {
  const es = config.elasticsearch;
  switch (spec.key) {
    case 'node_name': return [config.nodeName, 'the hostname'];
    case 'elasticsearch_url':
      if (es !== undefined) return [es.urls.map((u) => redactUrl(u.href)).join(','), 'env FLUENT_ELASTICSEARCH_HOST (with _PORT, _SCHEME, _PATH)'];
      break;
    case 'elasticsearch_password':
      if (es?.password !== undefined) return ['<redacted>', 'file named by elasticsearch_password_file'];
      break;
    case 'elasticsearch_api_key':
      if (es?.apiKey !== undefined) return ['<redacted>', 'file named by elasticsearch_api_key_file'];
      break;
    case 'kubernetes_url':
      if (config.kubernetesMetadata && env.KUBERNETES_SERVICE_HOST) return [`https://${env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`, 'env KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT'];
      break;
  }
  return ['(unset)', '-'];
}
