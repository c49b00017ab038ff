import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import { indexNameProblem } from '../core/index-name-rules.ts';
import { DEFAULT_HOST_LOGS, OPTIONS, type OptionKey, type OptionSpec } from './options.ts';

/** The settings, checked and typed. Field names are the option keys in camelCase. */
export interface Config {
  readonly paths: readonly string[];
  readonly excludePaths: readonly string[];
  readonly containerLogRoots: readonly string[];
  /** The `--config` file, if any: never read as a log. */
  readonly configFile: string | undefined;
  readonly readFrom: 'head' | 'tail';
  readonly maxRecordBytes: number;
  readonly readChunkBytes: number;
  readonly bufferMaxBytes: number;
  readonly pollIntervalMs: number;
  readonly rescanIntervalMs: number;
  readonly rotateWaitMs: number;
  readonly partialWaitMs: number;
  readonly stateDir: string;
  readonly checkpointIntervalMs: number;
  readonly nodeName: string;
  readonly schema: 'fluentd' | 'ecs';
  readonly dedotKeys: boolean;
  readonly kubernetesMetadata: boolean;
  readonly honorExcludeAnnotations: boolean;
  readonly kubernetesUrl: string | undefined;
  /** Set by Kubernetes in every pod: the in-cluster API address. */
  readonly kubernetesServiceHost: string | undefined;
  readonly kubernetesServicePort: string | undefined;
  readonly kubernetesTokenFile: string;
  readonly kubernetesCaFile: string;
  readonly kubernetesDeletedPodTtlMs: number;
  readonly podName: string | undefined;
  readonly podNamespace: string | undefined;
  readonly elasticsearch: ElasticsearchConfig | undefined;
  readonly batchMaxRecords: number;
  readonly batchMaxBytes: number;
  readonly batchMaxDelayMs: number;
  readonly httpPort: number;
  readonly httpAddress: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly shutdownTimeoutMs: number;
}

export interface ElasticsearchConfig {
  readonly urls: readonly URL[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Where the password was read from, if a file: read again after a 401/403 (a rotated Secret). */
  readonly passwordFile: string | undefined;
  readonly apiKey: string | undefined;
  readonly apiKeyFile: string | undefined;
  readonly bearerTokenFile: string | undefined;
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly tlsVerify: boolean;
  readonly indexMode: 'logstash' | 'data_stream' | 'index';
  readonly indexName: string;
  readonly logstashPrefix: string;
  readonly logstashDateformat: string;
  readonly dataStreamDataset: string;
  readonly dataStreamNamespace: string;
  readonly deterministicIds: boolean;
  readonly installTemplate: boolean;
  readonly concurrency: number;
  readonly requestTimeoutMs: number;
  readonly retryMaxBackoffMs: number;
  readonly gzip: boolean;
  readonly deadLetterMaxBytes: number;
}

type Env = Readonly<Record<string, string | undefined>>;
export type Raw = { readonly value: string | readonly string[]; readonly from: string };

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
/** Fluentd's sizes (`2M`, `512k`): a single letter, 1024-based. Read so only in a FLUENT_* variable. */
const FLUENTD_SIZE_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Reads `--config FILE` (YAML) and the environment; the environment wins. Throws ConfigError. */
export function loadConfig(argv: readonly string[], env: Env): Config {
  const raw = settingSources(argv, env);
  const get = reader(raw);
  const esUrls = elasticsearchUrls(get.list('elasticsearch_url'), env);
  if (esUrls !== undefined) checkIndexNames(raw, get);
  checkOutput(get.enum('output'), esUrls !== undefined, env);
  return {
    paths: containerAndHostPaths(raw, get.list('paths') ?? []),
    excludePaths: get.list('exclude_paths') ?? [],
    containerLogRoots: get.list('container_log_roots') ?? [],
    configFile: configFilePath(argv),
    readFrom: get.enum('read_from') as Config['readFrom'],
    maxRecordBytes: get.number('max_record_bytes'),
    readChunkBytes: get.number('read_chunk_bytes'),
    bufferMaxBytes: get.number('buffer_max_bytes'),
    pollIntervalMs: get.number('poll_interval_ms'),
    rescanIntervalMs: get.number('rescan_interval_ms'),
    rotateWaitMs: get.number('rotate_wait_ms'),
    partialWaitMs: get.number('partial_wait_ms'),
    stateDir: get.string('state_dir') ?? '',
    checkpointIntervalMs: get.number('checkpoint_interval_ms'),
    nodeName: get.string('node_name') ?? hostname(),
    schema: get.enum('schema') as Config['schema'],
    dedotKeys: get.bool('dedot_keys'),
    kubernetesMetadata: kubernetesOn(get.enum('kubernetes_metadata'), env),
    honorExcludeAnnotations: get.bool('honor_exclude_annotations'),
    kubernetesUrl: raw.get('kubernetes_url')?.from === 'FLUENT_FILTER_KUBERNETES_URL' ? get.string('kubernetes_url')?.replace(/\/api\/?$/, '') : get.string('kubernetes_url'),
    kubernetesServiceHost: env.KUBERNETES_SERVICE_HOST || undefined,
    kubernetesServicePort: env.KUBERNETES_SERVICE_PORT || undefined,
    kubernetesTokenFile: get.string('kubernetes_token_file') ?? '',
    kubernetesCaFile: get.string('kubernetes_ca_file') ?? '',
    kubernetesDeletedPodTtlMs: get.number('kubernetes_deleted_pod_ttl_ms'),
    podName: get.string('pod_name'),
    podNamespace: get.string('pod_namespace'),
    elasticsearch: esUrls === undefined ? undefined : {
      urls: esUrls,
      username: get.string('elasticsearch_username'),
      password: get.secret('elasticsearch_password', 'elasticsearch_password_file'),
      apiKey: get.secret('elasticsearch_api_key', 'elasticsearch_api_key_file'),
      passwordFile: get.string('elasticsearch_password_file'),
      apiKeyFile: get.string('elasticsearch_api_key_file'),
      bearerTokenFile: get.string('elasticsearch_bearer_token_file'),
      caFile: get.string('elasticsearch_ca_file'),
      certFile: get.string('elasticsearch_cert_file'),
      keyFile: get.string('elasticsearch_key_file'),
      tlsVerify: get.bool('elasticsearch_tls_verify'),
      indexMode: get.enum('index_mode') as ElasticsearchConfig['indexMode'],
      indexName: get.string('index_name') ?? 'logstash',
      logstashPrefix: get.string('logstash_prefix') ?? 'logstash',
      logstashDateformat: get.string('logstash_dateformat') ?? '%Y.%m.%d',
      dataStreamDataset: get.string('data_stream_dataset') ?? 'kubernetes',
      dataStreamNamespace: get.string('data_stream_namespace') ?? 'default',
      deterministicIds: get.bool('deterministic_ids'),
      installTemplate: get.bool('install_template'),
      concurrency: get.number('output_concurrency'),
      requestTimeoutMs: get.number('request_timeout_ms'),
      retryMaxBackoffMs: get.number('retry_max_backoff_ms'),
      gzip: get.bool('gzip'),
      deadLetterMaxBytes: get.number('dead_letter_max_bytes'),
    },
    batchMaxRecords: get.number('batch_max_records'),
    batchMaxBytes: get.number('batch_max_bytes'),
    batchMaxDelayMs: get.number('batch_max_delay_ms'),
    httpPort: get.number('http_port'),
    httpAddress: get.string('http_address') ?? '0.0.0.0',
    logLevel: get.enum('log_level') as Config['logLevel'],
    shutdownTimeoutMs: get.number('shutdown_timeout_ms'),
  };
}

/**
 * Each setting's value as given, before it is checked, and where it came from: the variable's
 * name, `<file>: <key>` for the YAML file, or the key itself for its default. Unset settings are absent.
 */
export function settingSources(argv: readonly string[], env: Env): Map<OptionKey, Raw> {
  const file = readConfigFile(argv);
  const raw = new Map<OptionKey, Raw>();
  for (const spec of OPTIONS) {
    const fromEnv = spec.env.find((name) => env[name] !== undefined && env[name] !== '');
    if (fromEnv !== undefined) raw.set(spec.key, { value: env[fromEnv] as string, from: fromEnv });
    else if (file.values[spec.key] !== undefined) raw.set(spec.key, { value: yamlValue(spec, file.values[spec.key], file.path), from: `${file.path}: ${spec.key}` });
    else if (spec.default !== undefined) raw.set(spec.key, { value: spec.default, from: spec.key });
  }
  return raw;
}

/** The path given with `--config`, if any; throws ConfigError when the flag has no path. */
function configFilePath(argv: readonly string[]): string | undefined {
  const at = argv.findIndex((a) => a === '--config' || a.startsWith('--config='));
  if (at < 0) return undefined;
  const arg = argv[at] as string;
  const path = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[at + 1];
  if (path === undefined || path === '') throw new ConfigError('--config', 'expected a file path after --config');
  return path;
}

function readConfigFile(argv: readonly string[]): { path: string; values: Record<string, unknown> } {
  const path = configFilePath(argv);
  if (path === undefined) return { path: '', values: {} };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('--config', `cannot read ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: false });
  } catch (err) {
    // Only the error's kind and position: the yaml library's message quotes the line, which may hold a secret.
    const { code, pos } = err as { code?: string; pos?: [number, number] };
    const before = pos === undefined ? undefined : text.slice(0, pos[0]).split('\n');
    const at = before === undefined ? '' : ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
    throw new ConfigError('--config', `${path} is not valid YAML${at} (${code ?? 'syntax error'})`);
  }
  if (doc === null || doc === undefined) return { path, values: {} };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError('--config', `${path} must hold a mapping of option keys`);
  const known = new Set<string>(OPTIONS.map((o) => o.key));
  for (const key of Object.keys(doc)) {
    if (!known.has(key)) throw new ConfigError(key, `unknown key in ${path} (the keys are listed in the README's configuration table)`);
  }
  return { path, values: doc as Record<string, unknown> };
}

function yamlValue(spec: OptionSpec, value: unknown, path: string): string | readonly string[] {
  if (spec.type.kind === 'list' && Array.isArray(value)) return value.map(String);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ConfigError(spec.key, `in ${path}: expected ${describe(spec)}, got ${spec.secret ? '<redacted>' : JSON.stringify(value)}`);
}

function describe(spec: OptionSpec): string {
  const t = spec.type;
  switch (t.kind) {
    case 'string': return 'a string';
    case 'bool': return 'true or false';
    case 'list': return 'a comma-separated list';
    case 'enum': return `one of ${t.values.join(', ')}`;
    case 'int': {
      const range = t.max === undefined ? `>= ${t.min}` : `from ${t.min} to ${t.max}`;
      return spec.key.endsWith('_ms') ? `a duration ${range} ms (a number of ms, or with a unit: 500ms, 5s, 2m, 1h)` : `a whole number ${range}`;
    }
    case 'bytes': {
      const range = t.max === undefined ? `>= ${t.min}` : `from ${t.min} to ${t.max}`;
      return `a size in bytes ${range} (a number, optionally with KiB, MiB, GiB, KB, MB or GB)`;
    }
  }
}

/**
 * The settings that make index names make names Elasticsearch takes: each is tried in the name it
 * makes (`<prefix>-<a date>`, `logs-<dataset>-<namespace>`), whichever index mode is set.
 */
function checkIndexNames(raw: Map<OptionKey, Raw>, get: ReturnType<typeof reader>): void {
  const date = (get.string('logstash_dateformat') ?? '').replace(/%[YmdHjy%]/g, (d) => (d === '%%' ? '%' : '1'));
  const dataset = get.string('data_stream_dataset') ?? '';
  const namespace = get.string('data_stream_namespace') ?? '';
  const names: Array<[OptionKey, string]> = [
    ['logstash_dateformat', `logstash-${date}`],
    ['logstash_prefix', `${get.string('logstash_prefix') ?? ''}-${date}`],
    ['data_stream_dataset', `logs-${dataset}-default`],
    ['data_stream_namespace', `logs-kubernetes-${namespace}`],
    ['index_name', get.string('index_name') ?? ''],
  ];
  for (const [key, name] of names) {
    const problem = indexNameProblem(name);
    if (problem === undefined) continue;
    const r = raw.get(key) as Raw;
    throw new ConfigError(r.from === key ? key : `${key} (${r.from})`, `${JSON.stringify(r.value)} makes the index name ${JSON.stringify(name)}, which Elasticsearch refuses: an index name ${problem}`);
  }
}

function reader(raw: Map<OptionKey, Raw>) {
  const spec = (key: OptionKey): OptionSpec => OPTIONS.find((o) => o.key === key) as OptionSpec;
  const fail = (key: OptionKey, r: Raw): never => {
    const s = spec(key);
    const shown = s.secret ? '<redacted>' : JSON.stringify(Array.isArray(r.value) ? r.value.join(',') : r.value);
    throw new ConfigError(r.from === key ? key : `${key} (${r.from})`, `expected ${describe(s)}, got ${shown}`);
  };
  const text = (key: OptionKey): string | undefined => {
    const r = raw.get(key);
    if (r === undefined) return undefined;
    return Array.isArray(r.value) ? r.value.join(',') : (r.value as string);
  };
  return {
    string: (key: OptionKey): string | undefined => text(key)?.trim() || undefined,
    list: (key: OptionKey): string[] | undefined => {
      const r = raw.get(key);
      if (r === undefined) return undefined;
      const items = Array.isArray(r.value) ? r.value : splitList(r.value as string);
      return items.map((s) => s.trim()).filter((s) => s !== '');
    },
    enum: (key: OptionKey): string => {
      const r = raw.get(key) as Raw;
      let v = (text(key) ?? '').trim().toLowerCase();
      // Fluentd says logstash_format true or false: daily indices, or its one index_name.
      if (r.from === 'FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT') v = v === 'true' ? 'logstash' : v === 'false' ? 'index' : v;
      const t = spec(key).type;
      if (t.kind !== 'enum' || !t.values.includes(v)) fail(key, r);
      return v;
    },
    bool: (key: OptionKey): boolean => {
      const r = raw.get(key) as Raw;
      const v = (text(key) ?? '').trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      return fail(key, r);
    },
    number: (key: OptionKey): number => {
      const r = raw.get(key) as Raw;
      const t = spec(key).type;
      const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text(key) ?? '');
      const suffix = (m?.[2] ?? '').toLowerCase();
      // Durations: a bare number is ms, but seconds in a Fluentd variable, as Fluentd reads it.
      const duration = key.endsWith('_ms');
      const fluentd = r.from.startsWith('FLUENT_');
      const unit = duration ? DURATION_UNITS[suffix || (fluentd ? 's' : 'ms')] : t.kind === 'bytes' ? (SIZE_UNITS[suffix] ?? (fluentd ? FLUENTD_SIZE_UNITS[suffix] : undefined)) : suffix === '' ? 1 : undefined;
      if (m === null || unit === undefined) return fail(key, r);
      const n = Number(m[1]) * unit;
      const min = t.kind === 'int' || t.kind === 'bytes' ? t.min : 0;
      const max = t.kind === 'int' || t.kind === 'bytes' ? t.max : undefined;
      if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) fail(key, r);
      return n;
    },
    /** A secret given inline or as a file (a mounted Secret); the file wins. */
    secret: (key: OptionKey, fileKey: OptionKey): string | undefined => {
      const file = text(fileKey)?.trim();
      if (file === undefined || file === '') return text(key) || undefined;
      try {
        return readFileSync(file, 'utf8').trim();
      } catch (err) {
        throw new ConfigError(fileKey, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    },
  };
}

/** `a,b`, or a JSON array as Fluentd's `exclude_path` takes it: `["/var/log/containers/fluent*"]`. */
function splitList(text: string): string[] {
  if (text.trim().startsWith('[')) {
    try {
      const items: unknown = JSON.parse(text);
      if (Array.isArray(items)) return items.map(String);
    } catch {
      // not JSON: read it as a comma-separated list
    }
  }
  return text.split(',');
}

/**
 * FLUENT_CONTAINER_TAIL_PATH is the container logs' pattern only: in fluentd-kubernetes-daemonset
 * the host logs are other sources, which it does not change, so they are read as by default.
 */
function containerAndHostPaths(raw: Map<OptionKey, Raw>, paths: string[]): string[] {
  return raw.get('paths')?.from === 'FLUENT_CONTAINER_TAIL_PATH' ? [...paths, ...DEFAULT_HOST_LOGS] : paths;
}

function kubernetesOn(mode: string, env: Env): boolean {
  if (mode === 'auto') return (env.KUBERNETES_SERVICE_HOST ?? '') !== '';
  return mode === 'on';
}

/**
 * Inside a cluster, stdout is the agent's own container log: printing every record there copies
 * the node's logs into it and moves the checkpoints as if they were shipped. So without an
 * Elasticsearch URL the agent starts there only when stdout was chosen on purpose.
 */
function checkOutput(output: string, elasticsearch: boolean, env: Env): void {
  if (output === 'stdout' && elasticsearch) throw new ConfigError('output', 'stdout was chosen, but elasticsearch_url is set too: unset one of them');
  if (output === 'elasticsearch' && !elasticsearch) throw new ConfigError('elasticsearch_url', 'not set, but output is elasticsearch: set ELASTICSEARCH_URL (or elasticsearch_url in the config file)');
  if (output === 'auto' && !elasticsearch && (env.KUBERNETES_SERVICE_HOST ?? '') !== '') {
    throw new ConfigError('elasticsearch_url', 'not set, inside a Kubernetes cluster (KUBERNETES_SERVICE_HOST is set): records would be printed into this pod\'s own log and marked as shipped. Set ELASTICSEARCH_URL (or elasticsearch_url in the config file), or NODETAIL_OUTPUT=stdout (output: stdout) to print them on purpose');
  }
}

/** ELASTICSEARCH_URL, or the URL fluentd-kubernetes-daemonset composes from its FLUENT_ELASTICSEARCH_* parts. */
function elasticsearchUrls(list: string[] | undefined, env: Env): URL[] | undefined {
  let urls = list;
  let key = 'elasticsearch_url';
  if ((urls === undefined || urls.length === 0) && env.FLUENT_ELASTICSEARCH_HOST) {
    const scheme = env.FLUENT_ELASTICSEARCH_SCHEME || 'http';
    const host = env.FLUENT_ELASTICSEARCH_HOST.includes(':') && !env.FLUENT_ELASTICSEARCH_HOST.startsWith('[') ? `[${env.FLUENT_ELASTICSEARCH_HOST}]` : env.FLUENT_ELASTICSEARCH_HOST;
    urls = [`${scheme}://${host}:${env.FLUENT_ELASTICSEARCH_PORT || '9200'}${env.FLUENT_ELASTICSEARCH_PATH ?? ''}`];
    key = 'elasticsearch_url (FLUENT_ELASTICSEARCH_HOST)';
  }
  if (urls === undefined || urls.length === 0) return undefined;
  return urls.map((u) => {
    checkUserinfo(u, key);
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new ConfigError(key, `expected http:// or https:// URLs, got ${JSON.stringify(redactUrl(u))}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(key, `expected http:// or https:// URLs, got ${JSON.stringify(redactUrl(u))}`);
    // The credentials are percent-decoded where they are used (and censored in the self-log): a
    // `%` that starts no escape would throw there, at start-up, as a stack trace.
    if (!decodes(url.username) || !decodes(url.password)) {
      throw new ConfigError(key, `the user name or password in ${JSON.stringify(redactUrl(u))} holds a "%" that starts no escape: URL-encode it (%25), or set elasticsearch_username and elasticsearch_password instead`);
    }
    return url;
  });
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A URL as it may be shown: everything between `//` and the last `@` is user information
 * (a password may hold an unescaped `/` or `@`); only a plain user name before a `:` is kept.
 */
export function redactUrl(u: string): string {
  const start = u.indexOf('//');
  const at = u.lastIndexOf('@');
  if (start < 0 || at < start) return u;
  const userinfo = u.slice(start + 2, at);
  const colon = userinfo.indexOf(':');
  const user = userinfo.slice(0, colon);
  const shown = colon > 0 && /^[^/?#]*$/.test(user) ? `${user}:<redacted>` : '<redacted>';
  return `${u.slice(0, start + 2)}${shown}${u.slice(at)}`;
}

/**
 * `http://elastic:S3cr/3t@host`: a URL parser ends the host at the `/`, so the password would
 * become the host, port or path, and be sent and printed as such. Refused: it must be URL-encoded.
 */
function checkUserinfo(u: string, key: string): void {
  const start = u.indexOf('//');
  const at = u.lastIndexOf('@');
  if (start < 0 || at < start || !/[/?#]/.test(u.slice(start + 2, at))) return;
  throw new ConfigError(key, `the user name or password in ${JSON.stringify(redactUrl(u))} holds "/", "?" or "#": URL-encode them (%2F, %3F, %23), or set elasticsearch_username and elasticsearch_password instead`);
}
