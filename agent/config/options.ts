/**
 * Every setting nodetail has, in one table: its key in the YAML file, its environment
 * variables (the first is the canonical one; others are aliases, such as the
 * `FLUENT_ELASTICSEARCH_*` variables of fluentd-kubernetes-daemonset), its default and one line
 * of help. The README reproduces it (`node agent/config/print-options.ts`).
 *
 * Durations (`*_ms`) take a unit: `500ms`, `5s`, `2m`, `1h`; a bare number is milliseconds,
 * except in a Fluentd variable, where it is seconds as in Fluentd. Sizes take KiB/MiB/GiB or
 * KB/MB/GB.
 */

export type OptionType =
  | { readonly kind: 'string' }
  | { readonly kind: 'int'; readonly min: number; readonly max?: number }
  | { readonly kind: 'bytes'; readonly min: number; readonly max?: number } // a number with an optional KiB/MiB/GiB/KB/MB/GB suffix
  | { readonly kind: 'bool' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'list' }; // comma-separated in the environment, a list or a string in YAML

export interface OptionSpec {
  readonly key: string;
  readonly env: readonly string[];
  readonly type: OptionType;
  /** The default as it would be written in the environment; undefined means unset. */
  readonly default: string | undefined;
  readonly help: string;
  /** Never logged, never printed: shown as `<redacted>`. */
  readonly secret?: true;
}

const str = { kind: 'string' } as const;
const bool = { kind: 'bool' } as const;
const list = { kind: 'list' } as const;
const int = (min: number, max?: number): OptionType => (max === undefined ? { kind: 'int', min } : { kind: 'int', min, max });
const bytes = (min: number, max?: number): OptionType => (max === undefined ? { kind: 'bytes', min } : { kind: 'bytes', min, max });
/**
 * Caps that keep a `_bulk` body under 4 GiB, the reach of its item ends (a Uint32Array): a body
 * closes at the first item past `batch_max_bytes`, and an item is one encoded record (JSON
 * escaping can make a record's text up to six times longer; 64 MiB of it stays under V8's
 * longest string).
 */
const GiB = 1024 ** 3;
const MAX_RECORD_CAP = 64 * 1024 ** 2;
const oneOf = (...values: string[]): OptionType => ({ kind: 'enum', values });

/** Host logs read by default: the syslog-style files of Debian/Ubuntu and RHEL-family nodes. */
export const DEFAULT_HOST_LOGS = [
  '/var/log/syslog',
  '/var/log/messages',
  '/var/log/secure',
  '/var/log/*.log', // kern.log, auth.log, kube-*.log, cloud-init.log...
];

export const OPTIONS = [
  // -- input
  { key: 'paths', env: ['NODETAIL_PATHS', 'FLUENT_CONTAINER_TAIL_PATH'], type: list, default: ['/var/log/containers/*.log', ...DEFAULT_HOST_LOGS].join(','),
    help: 'Glob patterns of the files to read. Container logs are found through /var/log/containers; host logs are the syslog-style files listed. FLUENT_CONTAINER_TAIL_PATH replaces the container pattern only: the host logs are still read.' },
  { key: 'exclude_paths', env: ['NODETAIL_EXCLUDE_PATHS', 'FLUENT_CONTAINER_TAIL_EXCLUDE_PATH'], type: list, default: '',
    help: 'Glob patterns of files never read, even when `paths` matches them.' },
  { key: 'container_log_roots', env: ['NODETAIL_CONTAINER_LOG_ROOTS'], type: list, default: '/var/log/pods,/var/lib/docker/containers',
    help: 'Folders where the kubelet and the container runtime write logs. A matched path that is a symbolic link (the /var/log/containers links) is read only when it leads into one of them; links elsewhere are refused and counted.' },
  { key: 'read_from', env: ['NODETAIL_READ_FROM'], type: oneOf('head', 'tail'), default: 'head',
    help: 'Where to start in files that were already there at the first start (no checkpoint): head reads them whole, tail only what is written next. Files created later are always read from their start.' },
  { key: 'max_record_bytes', env: ['NODETAIL_MAX_RECORD_BYTES'], type: bytes(1024, MAX_RECORD_CAP), default: '256KiB',
    help: 'Longest record (after joining CRI/docker partial lines); the rest is dropped and the record is flagged truncated.' },
  { key: 'read_chunk_bytes', env: ['NODETAIL_READ_CHUNK_BYTES'], type: bytes(4096), default: '256KiB',
    help: 'Size of one read from a file.' },
  { key: 'buffer_max_bytes', env: ['NODETAIL_BUFFER_MAX_BYTES'], type: bytes(1048576), default: '8MiB',
    help: 'Memory budget: bytes read but not yet acknowledged by the output. When it is spent, reading pauses; the files on disk are the buffer.' },
  { key: 'poll_interval_ms', env: ['NODETAIL_POLL_INTERVAL_MS'], type: int(50, 60000), default: '1000',
    help: 'How often open files are checked for new data and for rotation (their path naming another file) when no watch event came; a file that does not grow is checked less and less often, down to every 10 intervals. The globs\' root folders are checked for new files 4 times per interval.' },
  { key: 'rescan_interval_ms', env: ['NODETAIL_RESCAN_INTERVAL_MS'], type: int(100, 600000), default: '30000',
    help: 'How often the glob patterns are expanded again, as a last resort. A change in the globs\' root folders (seen by watch events, or by their polling) and a rotation seen by the file poll trigger a rescan at once.' },
  { key: 'rotate_wait_ms', env: ['NODETAIL_ROTATE_WAIT_MS'], type: int(0, 600000), default: '5000',
    help: 'How long a rotated or deleted file is kept open after it was read to its end without growing, for writes that were still on their way.' },
  { key: 'partial_wait_ms', env: ['NODETAIL_PARTIAL_WAIT_MS'], type: int(100, 600000), default: '5000',
    help: 'How long a CRI partial line (P) waits for its F, or a docker 16 KiB chunk for its last chunk, once the file is read to its end; then what was joined ships, flagged incomplete, and the file\'s checkpoint moves past it.' },
  // -- state
  { key: 'state_dir', env: ['NODETAIL_STATE_DIR'], type: str, default: '/var/lib/nodetail',
    help: 'Directory for checkpoints and dead letters (a hostPath in Kubernetes, so they survive the pod).' },
  { key: 'checkpoint_interval_ms', env: ['NODETAIL_CHECKPOINT_INTERVAL_MS'], type: int(10, 60000), default: '1000',
    help: 'How often acknowledged offsets are written to disk (also on shutdown).' },
  // -- enrichment
  { key: 'node_name', env: ['NODE_NAME', 'NODETAIL_NODE_NAME', 'K8S_NODE_NAME'], type: str, default: undefined,
    help: 'This node\'s name (from the downward API: spec.nodeName). Default: the hostname.' },
  { key: 'schema', env: ['NODETAIL_SCHEMA'], type: oneOf('fluentd', 'ecs'), default: 'fluentd',
    help: 'Record fields: fluentd (as fluentd-kubernetes-daemonset with the kubernetes metadata filter) or ecs (Elastic Common Schema).' },
  { key: 'dedot_keys', env: ['NODETAIL_DEDOT_KEYS'], type: bool, default: 'true',
    help: 'Replace "." with "_" in label and annotation keys, so app and app.kubernetes.io/name never collide in a mapping.' },
  { key: 'kubernetes_metadata', env: ['NODETAIL_KUBERNETES_METADATA'], type: oneOf('auto', 'on', 'off'), default: 'auto',
    help: 'Add pod labels, annotations, image and owner from the API server. auto: on when KUBERNETES_SERVICE_HOST is set.' },
  { key: 'honor_exclude_annotations', env: ['NODETAIL_HONOR_EXCLUDE_ANNOTATIONS'], type: bool, default: 'true',
    help: 'Leave out the logs of pods annotated nodetail.io/exclude or fluentbit.io/exclude: "true". Any pod author can set them; false ships every pod (Fluent Bit\'s default, K8S-Logging.Exclude Off).' },
  { key: 'kubernetes_url', env: ['NODETAIL_KUBERNETES_URL', 'FLUENT_FILTER_KUBERNETES_URL'], type: str, default: undefined,
    help: 'API server URL. Default: in-cluster, from KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT. Fluentd\'s form ending in /api is accepted.' },
  { key: 'kubernetes_token_file', env: ['NODETAIL_KUBERNETES_TOKEN_FILE'], type: str, default: '/var/run/secrets/kubernetes.io/serviceaccount/token',
    help: 'Service account token, re-read regularly because projected tokens expire.' },
  { key: 'kubernetes_ca_file', env: ['NODETAIL_KUBERNETES_CA_FILE'], type: str, default: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    help: 'CA bundle that signs the API server certificate.' },
  { key: 'kubernetes_deleted_pod_ttl_ms', env: ['NODETAIL_KUBERNETES_DELETED_POD_TTL_MS'], type: int(0), default: '60000',
    help: 'How long a deleted pod\'s metadata is kept for its late lines.' },
  { key: 'pod_name', env: ['POD_NAME', 'NODETAIL_POD_NAME'], type: str, default: undefined,
    help: 'This agent\'s own pod (downward API), whose logs are not shipped.' },
  { key: 'pod_namespace', env: ['POD_NAMESPACE', 'NODETAIL_POD_NAMESPACE'], type: str, default: undefined,
    help: 'This agent\'s own namespace (downward API).' },
  // -- output
  { key: 'output', env: ['NODETAIL_OUTPUT'], type: oneOf('auto', 'elasticsearch', 'stdout'), default: 'auto',
    help: 'Where records go. auto: Elasticsearch when elasticsearch_url is set; without it, stdout outside a cluster, and no start inside one (KUBERNETES_SERVICE_HOST set), where stdout would dump the node\'s logs into the agent\'s own log and mark them shipped. stdout: print them on purpose.' },
  { key: 'elasticsearch_url', env: ['ELASTICSEARCH_URL', 'NODETAIL_ELASTICSEARCH_URL'], type: list, default: undefined,
    help: 'Comma-separated Elasticsearch or OpenSearch URLs. Unset: see output. Fluentd\'s FLUENT_ELASTICSEARCH_HOST/PORT/SCHEME/PATH are used when it is unset.' },
  { key: 'elasticsearch_username', env: ['ELASTICSEARCH_USERNAME', 'NODETAIL_ELASTICSEARCH_USERNAME', 'FLUENT_ELASTICSEARCH_USER'], type: str, default: undefined,
    help: 'Basic auth user.' },
  { key: 'elasticsearch_password', env: ['ELASTICSEARCH_PASSWORD', 'NODETAIL_ELASTICSEARCH_PASSWORD', 'FLUENT_ELASTICSEARCH_PASSWORD'], type: str, default: undefined, secret: true,
    help: 'Basic auth password.' },
  { key: 'elasticsearch_password_file', env: ['NODETAIL_ELASTICSEARCH_PASSWORD_FILE'], type: str, default: undefined,
    help: 'File holding the password (a mounted Secret); read at start-up and again after Elasticsearch refuses it (401/403), so a rotated Secret needs no restart.' },
  { key: 'elasticsearch_api_key', env: ['ELASTICSEARCH_API_KEY', 'NODETAIL_ELASTICSEARCH_API_KEY'], type: str, default: undefined, secret: true,
    help: 'API key (the base64 "id:key" form), sent as Authorization: ApiKey.' },
  { key: 'elasticsearch_api_key_file', env: ['NODETAIL_ELASTICSEARCH_API_KEY_FILE'], type: str, default: undefined,
    help: 'File holding the API key (a mounted Secret); read at start-up and again after Elasticsearch refuses it (401/403), so a rotated Secret needs no restart.' },
  { key: 'elasticsearch_bearer_token_file', env: ['NODETAIL_ELASTICSEARCH_BEARER_TOKEN_FILE'], type: str, default: undefined,
    help: 'File holding a bearer token, re-read before each reconnect.' },
  { key: 'elasticsearch_ca_file', env: ['NODETAIL_ELASTICSEARCH_CA_FILE'], type: str, default: undefined,
    help: 'CA bundle for the server certificate (added to the system CAs).' },
  { key: 'elasticsearch_cert_file', env: ['NODETAIL_ELASTICSEARCH_CERT_FILE'], type: str, default: undefined,
    help: 'Client certificate (PEM) for mutual TLS.' },
  { key: 'elasticsearch_key_file', env: ['NODETAIL_ELASTICSEARCH_KEY_FILE'], type: str, default: undefined,
    help: 'Client private key (PEM) for mutual TLS.' },
  { key: 'elasticsearch_tls_verify', env: ['NODETAIL_ELASTICSEARCH_TLS_VERIFY', 'FLUENT_ELASTICSEARCH_SSL_VERIFY'], type: bool, default: 'true',
    help: 'Verify the server certificate. Turn off only for testing.' },
  { key: 'index_mode', env: ['NODETAIL_INDEX_MODE', 'FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT'], type: oneOf('logstash', 'data_stream', 'index'), default: 'logstash',
    help: 'logstash: daily indices <prefix>-YYYY.MM.DD by the record\'s UTC date; data_stream: logs-<dataset>-<namespace>, create only; index: every record into index_name. FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT true or false means logstash or index.' },
  { key: 'index_name', env: ['NODETAIL_INDEX_NAME', 'FLUENT_ELASTICSEARCH_LOGSTASH_INDEX_NAME'], type: str, default: 'logstash',
    help: 'The one index of index mode (Fluentd\'s index_name, with logstash_format false).' },
  { key: 'logstash_prefix', env: ['NODETAIL_LOGSTASH_PREFIX', 'FLUENT_ELASTICSEARCH_LOGSTASH_PREFIX'], type: str, default: 'logstash',
    help: 'Index name prefix in logstash mode.' },
  { key: 'logstash_dateformat', env: ['NODETAIL_LOGSTASH_DATEFORMAT', 'FLUENT_ELASTICSEARCH_LOGSTASH_DATEFORMAT'], type: str, default: '%Y.%m.%d',
    help: 'Date part of the index name (strftime: %Y %m %d %H).' },
  { key: 'data_stream_dataset', env: ['NODETAIL_DATA_STREAM_DATASET'], type: str, default: 'kubernetes',
    help: 'Dataset part of the data stream name.' },
  { key: 'data_stream_namespace', env: ['NODETAIL_DATA_STREAM_NAMESPACE'], type: str, default: 'default',
    help: 'Namespace part of the data stream name.' },
  { key: 'deterministic_ids', env: ['NODETAIL_DETERMINISTIC_IDS'], type: bool, default: 'true',
    help: 'Give every record an _id from its file identity and offset and send it with op_type create, so replays are not indexed twice. Off: Elasticsearch makes ids.' },
  { key: 'install_template', env: ['NODETAIL_INSTALL_TEMPLATE', 'FLUENT_ELASTICSEARCH_TEMPLATE_OVERWRITE'], type: bool, default: 'false',
    help: 'Install an index template for the schema at start-up.' },
  { key: 'batch_max_records', env: ['NODETAIL_BATCH_MAX_RECORDS'], type: int(1), default: '10000',
    help: 'A batch is sent when it holds this many records...' },
  { key: 'batch_max_bytes', env: ['NODETAIL_BATCH_MAX_BYTES', 'FLUENT_ELASTICSEARCH_BUFFER_CHUNK_LIMIT_SIZE'], type: bytes(1024, GiB), default: '2MiB',
    help: '...or this many bytes of NDJSON (in a Fluentd variable, k, m and g are 1024-based, as in Fluentd)...' },
  { key: 'batch_max_delay_ms', env: ['NODETAIL_BATCH_MAX_DELAY_MS', 'FLUENT_ELASTICSEARCH_BUFFER_FLUSH_INTERVAL'], type: int(1, 60000), default: '1000',
    help: '...or when its first record is this old.' },
  { key: 'output_concurrency', env: ['NODETAIL_OUTPUT_CONCURRENCY'], type: int(1, 64), default: '2',
    help: 'Bulk requests in flight at most (lowered while the server pushes back).' },
  { key: 'request_timeout_ms', env: ['NODETAIL_REQUEST_TIMEOUT_MS', 'FLUENT_ELASTICSEARCH_REQUEST_TIMEOUT'], type: int(100), default: '30000',
    help: 'Timeout of one bulk request.' },
  { key: 'retry_max_backoff_ms', env: ['NODETAIL_RETRY_MAX_BACKOFF_MS', 'FLUENT_ELASTICSEARCH_BUFFER_RETRY_MAX_INTERVAL'], type: int(10), default: '30000',
    help: 'Longest wait between retries (exponential backoff with full jitter up to this).' },
  { key: 'gzip', env: ['NODETAIL_GZIP'], type: bool, default: 'false',
    help: 'Compress bulk request bodies (Content-Encoding: gzip).' },
  { key: 'dead_letter_max_bytes', env: ['NODETAIL_DEAD_LETTER_MAX_BYTES'], type: bytes(0), default: '100MiB',
    help: 'Size of the dead-letter file (records the server rejected, with the reason); past it they are only counted.' },
  // -- operations
  { key: 'http_port', env: ['NODETAIL_HTTP_PORT'], type: int(0, 65535), default: '2021',
    help: 'Port of /metrics, /healthz and /readyz (0: any free port, written to the self-log).' },
  { key: 'http_address', env: ['NODETAIL_HTTP_ADDRESS'], type: str, default: '0.0.0.0',
    help: 'Address the HTTP port binds to.' },
  { key: 'log_level', env: ['NODETAIL_LOG_LEVEL'], type: oneOf('debug', 'info', 'warn', 'error'), default: 'info',
    help: 'Self-log level.' },
  { key: 'shutdown_timeout_ms', env: ['NODETAIL_SHUTDOWN_TIMEOUT_MS'], type: int(0), default: '20000',
    help: 'On SIGTERM, how long to wait for in-flight records to be acknowledged before persisting offsets and exiting.' },
] as const satisfies readonly OptionSpec[];

export type OptionKey = (typeof OPTIONS)[number]['key'];
