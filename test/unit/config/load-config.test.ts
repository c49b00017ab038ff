import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../agent/core/errors.ts';
import { loadConfig, redactUrl, type Config } from '../../../agent/config/load-config.ts';

const ES = { ELASTICSEARCH_URL: 'http://es:9200' };

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A YAML config file in a temp dir; returns the argv that loads it. */
async function yamlArgs(t: TestContext, text: string): Promise<{ argv: string[]; path: string }> {
  const path = join(await tempDir(t), 'nodetail.yaml');
  await writeFile(path, text);
  return { argv: ['--config', path], path };
}

/** Asserts loadConfig throws a ConfigError with exactly this key and message. */
function assertConfigError(argv: string[], env: Record<string, string>, key: string, message: string): ConfigError {
  let caught: unknown;
  try {
    loadConfig(argv, env);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.code, 'NODETAIL_CONFIG');
  assert.equal(caught.key, key);
  assert.equal(caught.message, `configuration: ${key}: ${message}`);
  return caught;
}

function urls(config: Config): string[] | undefined {
  return config.elasticsearch?.urls.map((u) => u.href);
}

test('defaults: no file, no environment', () => {
  const config = loadConfig([], {});
  assert.deepEqual(config, {
    paths: ['/var/log/containers/*.log', '/var/log/syslog', '/var/log/messages', '/var/log/secure', '/var/log/*.log'],
    excludePaths: [],
    containerLogRoots: ['/var/log/pods', '/var/lib/docker/containers'],
    configFile: undefined,
    readFrom: 'head',
    maxRecordBytes: 262_144,
    readChunkBytes: 262_144,
    bufferMaxBytes: 8_388_608,
    pollIntervalMs: 1000,
    rescanIntervalMs: 30_000,
    rotateWaitMs: 5000,
    partialWaitMs: 5000,
    stateDir: '/var/lib/nodetail',
    checkpointIntervalMs: 1000,
    nodeName: hostname(),
    schema: 'fluentd',
    dedotKeys: true,
    kubernetesMetadata: false,
    honorExcludeAnnotations: true,
    kubernetesUrl: undefined,
    kubernetesServiceHost: undefined,
    kubernetesServicePort: undefined,
    kubernetesTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
    kubernetesCaFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    kubernetesDeletedPodTtlMs: 60_000,
    podName: undefined,
    podNamespace: undefined,
    elasticsearch: undefined,
    batchMaxRecords: 10_000,
    batchMaxBytes: 2_097_152,
    batchMaxDelayMs: 1000,
    httpPort: 2021,
    httpAddress: '0.0.0.0',
    logLevel: 'info',
    shutdownTimeoutMs: 20_000,
  });
});

test('Elasticsearch defaults once a URL is set', () => {
  const es = loadConfig([], ES).elasticsearch;
  assert.ok(es !== undefined);
  assert.deepEqual({ ...es, urls: es.urls.map((u) => u.href) }, {
    urls: ['http://es:9200/'],
    username: undefined,
    password: undefined,
    passwordFile: undefined,
    apiKey: undefined,
    apiKeyFile: undefined,
    bearerTokenFile: undefined,
    caFile: undefined,
    certFile: undefined,
    keyFile: undefined,
    tlsVerify: true,
    indexMode: 'logstash',
    indexName: 'logstash',
    logstashPrefix: 'logstash',
    logstashDateformat: '%Y.%m.%d',
    dataStreamDataset: 'kubernetes',
    dataStreamNamespace: 'default',
    deterministicIds: true,
    installTemplate: false,
    concurrency: 2,
    requestTimeoutMs: 30_000,
    retryMaxBackoffMs: 30_000,
    gzip: false,
    deadLetterMaxBytes: 104_857_600,
  });
});

test('the environment beats the YAML file; an empty variable does not', async (t) => {
  const { argv } = await yamlArgs(t, 'schema: ecs\nlog_level: debug\nnode_name: from-file\npaths:\n  - /a/*.log\n  - /b/*.log\nbatch_max_delay_ms: 250\n');
  const fromFile = loadConfig(argv, {});
  assert.equal(fromFile.schema, 'ecs');
  assert.equal(fromFile.logLevel, 'debug');
  assert.equal(fromFile.nodeName, 'from-file');
  assert.deepEqual(fromFile.paths, ['/a/*.log', '/b/*.log']);
  assert.equal(fromFile.batchMaxDelayMs, 250);
  const both = loadConfig(argv, { NODETAIL_SCHEMA: 'FLUENTD', NODETAIL_LOG_LEVEL: '', NODE_NAME: 'node-b', NODETAIL_PATHS: '/c/*.log, /d/*.log,' });
  assert.equal(both.schema, 'fluentd');
  assert.equal(both.logLevel, 'debug');
  assert.equal(both.nodeName, 'node-b');
  assert.deepEqual(both.paths, ['/c/*.log', '/d/*.log']);
  // --config=FILE works too.
  assert.equal(loadConfig([`--config=${argv[1]}`], {}).schema, 'ecs');
});

test('the first environment variable of an option wins over its aliases', () => {
  const config = loadConfig([], { NODE_NAME: 'a', NODETAIL_NODE_NAME: 'b', K8S_NODE_NAME: 'c' });
  assert.equal(config.nodeName, 'a');
  assert.equal(loadConfig([], { K8S_NODE_NAME: 'c' }).nodeName, 'c');
});

test('an unknown YAML key is an error naming the key', async (t) => {
  const { argv, path } = await yamlArgs(t, 'schema: ecs\nelasticsearch_hosts: http://es:9200\n');
  assertConfigError(argv, {}, 'elasticsearch_hosts', `unknown key in ${path} (the keys are listed in the README's configuration table)`);
});

test('a missing, unreadable or malformed config file is an error of --config', async (t) => {
  const dir = await tempDir(t);
  const missing = join(dir, 'nope.yaml');
  const err = assertConfigError(['--config', missing], {}, '--config', `cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`);
  assert.ok(err.message.includes(missing));
  assertConfigError(['--config'], {}, '--config', 'expected a file path after --config');
  const list = join(dir, 'list.yaml');
  await writeFile(list, '- a\n- b\n');
  assertConfigError(['--config', list], {}, '--config', `${list} must hold a mapping of option keys`);
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'schema: [ecs\n');
  assert.throws(() => loadConfig(['--config', bad], {}), (e: unknown) => e instanceof ConfigError && e.key === '--config' && e.message === `configuration: --config: ${bad} is not valid YAML at line 2, column 1 (BAD_INDENT)`);
  const empty = join(dir, 'empty.yaml');
  await writeFile(empty, '# nothing set\n');
  assert.equal(loadConfig(['--config', empty], {}).schema, 'fluentd');
});

test('bad values name the key, where it came from, the value and what was expected', async (t) => {
  assertConfigError([], { NODETAIL_BATCH_MAX_RECORDS: '10k' }, 'batch_max_records (NODETAIL_BATCH_MAX_RECORDS)', 'expected a whole number >= 1, got "10k"');
  assertConfigError([], { NODETAIL_BATCH_MAX_RECORDS: '0' }, 'batch_max_records (NODETAIL_BATCH_MAX_RECORDS)', 'expected a whole number >= 1, got "0"');
  assertConfigError([], { NODETAIL_HTTP_PORT: '65536' }, 'http_port (NODETAIL_HTTP_PORT)', 'expected a whole number from 0 to 65535, got "65536"');
  assertConfigError([], { NODETAIL_HTTP_PORT: '-1' }, 'http_port (NODETAIL_HTTP_PORT)', 'expected a whole number from 0 to 65535, got "-1"');
  assertConfigError([], { NODETAIL_POLL_INTERVAL_MS: '1.5s' }, 'poll_interval_ms (NODETAIL_POLL_INTERVAL_MS)',
    'expected a duration from 50 to 60000 ms (a number of ms, or with a unit: 500ms, 5s, 2m, 1h), got "1.5s"');
  assertConfigError([], { NODETAIL_POLL_INTERVAL_MS: '5 days' }, 'poll_interval_ms (NODETAIL_POLL_INTERVAL_MS)',
    'expected a duration from 50 to 60000 ms (a number of ms, or with a unit: 500ms, 5s, 2m, 1h), got "5 days"');
  assertConfigError([], { NODETAIL_ROTATE_WAIT_MS: '1h' }, 'rotate_wait_ms (NODETAIL_ROTATE_WAIT_MS)',
    'expected a duration from 0 to 600000 ms (a number of ms, or with a unit: 500ms, 5s, 2m, 1h), got "1h"');
  assertConfigError([], { NODETAIL_MAX_RECORD_BYTES: '12XB' }, 'max_record_bytes (NODETAIL_MAX_RECORD_BYTES)',
    'expected a size in bytes from 1024 to 67108864 (a number, optionally with KiB, MiB, GiB, KB, MB or GB), got "12XB"');
  assertConfigError([], { NODETAIL_MAX_RECORD_BYTES: '1000' }, 'max_record_bytes (NODETAIL_MAX_RECORD_BYTES)',
    'expected a size in bytes from 1024 to 67108864 (a number, optionally with KiB, MiB, GiB, KB, MB or GB), got "1000"');
  // A body holds a batch and one record; its item ends are 32-bit offsets.
  assertConfigError([], { NODETAIL_MAX_RECORD_BYTES: '65MiB' }, 'max_record_bytes (NODETAIL_MAX_RECORD_BYTES)',
    'expected a size in bytes from 1024 to 67108864 (a number, optionally with KiB, MiB, GiB, KB, MB or GB), got "65MiB"');
  assertConfigError([], { NODETAIL_BATCH_MAX_BYTES: '2GiB' }, 'batch_max_bytes (NODETAIL_BATCH_MAX_BYTES)',
    'expected a size in bytes from 1024 to 1073741824 (a number, optionally with KiB, MiB, GiB, KB, MB or GB), got "2GiB"');
  assertConfigError([], { NODETAIL_DEDOT_KEYS: 'maybe' }, 'dedot_keys (NODETAIL_DEDOT_KEYS)', 'expected true or false, got "maybe"');
  assertConfigError([], { NODETAIL_SCHEMA: 'json' }, 'schema (NODETAIL_SCHEMA)', 'expected one of fluentd, ecs, got "json"');
  assertConfigError([], { NODETAIL_KUBERNETES_METADATA: 'sometimes' }, 'kubernetes_metadata (NODETAIL_KUBERNETES_METADATA)', 'expected one of auto, on, off, got "sometimes"');
  const { argv, path } = await yamlArgs(t, 'read_from: middle\n');
  assertConfigError(argv, {}, `read_from (${path}: read_from)`, 'expected one of head, tail, got "middle"');
  const nested = await yamlArgs(t, 'schema:\n  kind: ecs\n');
  assertConfigError(nested.argv, {}, 'schema', `in ${nested.path}: expected one of fluentd, ecs, got {"kind":"ecs"}`);
});

test('sizes take decimal and binary units, any case; booleans take true/false, yes/no, on/off, 1/0', () => {
  assert.equal(loadConfig([], { NODETAIL_MAX_RECORD_BYTES: '2KB' }).maxRecordBytes, 2000);
  assert.equal(loadConfig([], { NODETAIL_MAX_RECORD_BYTES: '2kib' }).maxRecordBytes, 2048);
  assert.equal(loadConfig([], { NODETAIL_BUFFER_MAX_BYTES: '64 MiB' }).bufferMaxBytes, 67_108_864);
  assert.equal(loadConfig([], { NODETAIL_BUFFER_MAX_BYTES: '1GB' }).bufferMaxBytes, 1e9);
  assert.equal(loadConfig([], { NODETAIL_BUFFER_MAX_BYTES: '1048576b' }).bufferMaxBytes, 1_048_576);
  for (const [text, value] of [['true', true], ['YES', true], ['on', true], ['1', true], ['false', false], ['No', false], ['off', false], ['0', false]] as const) {
    assert.equal(loadConfig([], { NODETAIL_DEDOT_KEYS: text }).dedotKeys, value, text);
  }
});

test('durations take units; a bare number is milliseconds, but seconds in a FLUENT_* variable', async (t) => {
  assert.equal(loadConfig([], { NODETAIL_BATCH_MAX_DELAY_MS: '500ms' }).batchMaxDelayMs, 500);
  assert.equal(loadConfig([], { NODETAIL_BATCH_MAX_DELAY_MS: '5s' }).batchMaxDelayMs, 5000);
  assert.equal(loadConfig([], { NODETAIL_BATCH_MAX_DELAY_MS: '250' }).batchMaxDelayMs, 250);
  assert.equal(loadConfig([], { NODETAIL_ROTATE_WAIT_MS: '2m' }).rotateWaitMs, 120_000);
  assert.equal(loadConfig([], { NODETAIL_SHUTDOWN_TIMEOUT_MS: '1h' }).shutdownTimeoutMs, 3_600_000);
  assert.equal(loadConfig([], { FLUENT_ELASTICSEARCH_BUFFER_FLUSH_INTERVAL: '5' }).batchMaxDelayMs, 5000);
  assert.equal(loadConfig([], { FLUENT_ELASTICSEARCH_BUFFER_FLUSH_INTERVAL: '5s' }).batchMaxDelayMs, 5000);
  assert.equal(loadConfig([], { FLUENT_ELASTICSEARCH_BUFFER_FLUSH_INTERVAL: '800ms' }).batchMaxDelayMs, 800);
  assert.equal(loadConfig([], { ...ES, FLUENT_ELASTICSEARCH_REQUEST_TIMEOUT: '10' }).elasticsearch?.requestTimeoutMs, 10_000);
  assertConfigError([], { FLUENT_ELASTICSEARCH_BUFFER_FLUSH_INTERVAL: '61' }, 'batch_max_delay_ms (FLUENT_ELASTICSEARCH_BUFFER_FLUSH_INTERVAL)',
    'expected a duration from 1 to 60000 ms (a number of ms, or with a unit: 500ms, 5s, 2m, 1h), got "61"');
  const { argv } = await yamlArgs(t, 'batch_max_delay_ms: 2s\nrotate_wait_ms: 750\n');
  const config = loadConfig(argv, {});
  assert.equal(config.batchMaxDelayMs, 2000);
  assert.equal(config.rotateWaitMs, 750);
});

test('FLUENT_ELASTICSEARCH_HOST/PORT/SCHEME/PATH compose the URL; ELASTICSEARCH_URL wins over them', () => {
  assert.deepEqual(urls(loadConfig([], { FLUENT_ELASTICSEARCH_HOST: 'elasticsearch.logging.svc' })), ['http://elasticsearch.logging.svc:9200/']);
  assert.deepEqual(urls(loadConfig([], {
    FLUENT_ELASTICSEARCH_HOST: 'es.example.com', FLUENT_ELASTICSEARCH_PORT: '9243', FLUENT_ELASTICSEARCH_SCHEME: 'https', FLUENT_ELASTICSEARCH_PATH: '/es',
  })), ['https://es.example.com:9243/es']);
  assert.deepEqual(urls(loadConfig([], { FLUENT_ELASTICSEARCH_HOST: 'fd00::5' })), ['http://[fd00::5]:9200/']);
  assert.deepEqual(urls(loadConfig([], { FLUENT_ELASTICSEARCH_HOST: '[::1]', FLUENT_ELASTICSEARCH_PORT: '9201' })), ['http://[::1]:9201/']);
  assert.deepEqual(urls(loadConfig([], { ...ES, FLUENT_ELASTICSEARCH_HOST: 'other' })), ['http://es:9200/']);
  assertConfigError([], { FLUENT_ELASTICSEARCH_HOST: 'es', FLUENT_ELASTICSEARCH_SCHEME: 'ftp' }, 'elasticsearch_url (FLUENT_ELASTICSEARCH_HOST)',
    'expected http:// or https:// URLs, got "ftp://es:9200"');
});

test('Fluentd aliases set the user, password, TLS verification and prefix', () => {
  const es = loadConfig([], {
    FLUENT_ELASTICSEARCH_HOST: 'es', FLUENT_ELASTICSEARCH_USER: 'elastic', FLUENT_ELASTICSEARCH_PASSWORD: 'changeme',
    FLUENT_ELASTICSEARCH_SSL_VERIFY: 'false', FLUENT_ELASTICSEARCH_LOGSTASH_PREFIX: 'k8s', FLUENT_ELASTICSEARCH_TEMPLATE_OVERWRITE: 'true',
  }).elasticsearch;
  assert.equal(es?.username, 'elastic');
  assert.equal(es?.password, 'changeme');
  assert.equal(es?.tlsVerify, false);
  assert.equal(es?.logstashPrefix, 'k8s');
  assert.equal(es?.installTemplate, true);
});

test('several Elasticsearch URLs, comma-separated or as a YAML list; a bad one is an error with its password hidden', async (t) => {
  assert.deepEqual(urls(loadConfig([], { ELASTICSEARCH_URL: 'http://es-0:9200, https://es-1:9200' })), ['http://es-0:9200/', 'https://es-1:9200/']);
  const { argv } = await yamlArgs(t, 'elasticsearch_url:\n  - http://a:9200\n  - http://b:9200\n');
  assert.deepEqual(urls(loadConfig(argv, {})), ['http://a:9200/', 'http://b:9200/']);
  const err = assertConfigError([], { ELASTICSEARCH_URL: 'ftp://elastic:hunter2@es:21' }, 'elasticsearch_url', 'expected http:// or https:// URLs, got "ftp://elastic:<redacted>@es:21"');
  assert.ok(!err.message.includes('hunter2'));
  assertConfigError([], { ELASTICSEARCH_URL: 'http://elastic:hunter2@es:92x0' }, 'elasticsearch_url', 'expected http:// or https:// URLs, got "http://elastic:<redacted>@es:92x0"');
  assert.equal(redactUrl('https://u:p@h:1/x'), 'https://u:<redacted>@h:1/x');
  assert.equal(redactUrl('https://h:1/x'), 'https://h:1/x');
});

test('a password with an unescaped / is never shown: everything up to the last @ is redacted, and the URL is refused', () => {
  assert.equal(redactUrl('http://elastic:S3cr/3tPW@host'), 'http://elastic:<redacted>@host');
  assert.equal(redactUrl('http://elastic:S3@cr/3t@host:9200/p'), 'http://elastic:<redacted>@host:9200/p');
  assert.equal(redactUrl('http://ela/stic:S3cr3t@host'), 'http://<redacted>@host');
  assert.equal(redactUrl('http://t0ken@host'), 'http://<redacted>@host');
  // 1234/abc would otherwise parse as the port and the path of a host named "elastic"
  for (const url of ['http://elastic:S3cr/3tPW@host', 'http://elastic:1234/abc@host:9200', 'http://elastic:a?b@host']) {
    const err = assertConfigError([], { ELASTICSEARCH_URL: url }, 'elasticsearch_url', `the user name or password in ${JSON.stringify(redactUrl(url))} holds "/", "?" or "#": URL-encode them (%2F, %3F, %23), or set elasticsearch_username and elasticsearch_password instead`);
    assert.ok(!/S3cr|1234|abc|a\?b/.test(err.message), err.message);
  }
  assert.equal(loadConfig([], { ELASTICSEARCH_URL: 'http://elastic:S3cr%2F3tPW@host' }).elasticsearch?.urls[0]?.host, 'host');
});

test('FLUENT_CONTAINER_TAIL_EXCLUDE_PATH in its JSON-array form, or comma-separated; NODETAIL_EXCLUDE_PATHS first', () => {
  assert.deepEqual(loadConfig([], { FLUENT_CONTAINER_TAIL_EXCLUDE_PATH: '["/var/log/containers/fluent*", "/var/log/containers/*_kube-system_*"]' }).excludePaths,
    ['/var/log/containers/fluent*', '/var/log/containers/*_kube-system_*']);
  assert.deepEqual(loadConfig([], { FLUENT_CONTAINER_TAIL_EXCLUDE_PATH: '/a/*,/b/*' }).excludePaths, ['/a/*', '/b/*']);
  // Not JSON after all: read as a comma-separated list.
  assert.deepEqual(loadConfig([], { FLUENT_CONTAINER_TAIL_EXCLUDE_PATH: '[ab]*.log,/c' }).excludePaths, ['[ab]*.log', '/c']);
  assert.deepEqual(loadConfig([], { NODETAIL_EXCLUDE_PATHS: '/x', FLUENT_CONTAINER_TAIL_EXCLUDE_PATH: '["/y"]' }).excludePaths, ['/x']);
});

test('kubernetes_metadata auto follows KUBERNETES_SERVICE_HOST; on and off force it', () => {
  const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', NODETAIL_OUTPUT: 'stdout' };
  const config = loadConfig([], inCluster);
  assert.equal(config.kubernetesMetadata, true);
  assert.equal(config.kubernetesServiceHost, '10.96.0.1');
  assert.equal(config.kubernetesServicePort, '443');
  assert.equal(loadConfig([], {}).kubernetesMetadata, false);
  assert.equal(loadConfig([], { KUBERNETES_SERVICE_HOST: '' }).kubernetesMetadata, false);
  assert.equal(loadConfig([], { ...inCluster, NODETAIL_KUBERNETES_METADATA: 'off' }).kubernetesMetadata, false);
  assert.equal(loadConfig([], { NODETAIL_KUBERNETES_METADATA: 'On' }).kubernetesMetadata, true);
});

test('secrets are read from *_file settings (trimmed), which win over inline values', async (t) => {
  const dir = await tempDir(t);
  const passwordFile = join(dir, 'password');
  const apiKeyFile = join(dir, 'api-key');
  await writeFile(passwordFile, 's3cret-from-file\n');
  await writeFile(apiKeyFile, '  aWQ6a2V5  \n');
  const es = loadConfig([], {
    ...ES, ELASTICSEARCH_PASSWORD: 'inline', NODETAIL_ELASTICSEARCH_PASSWORD_FILE: passwordFile, NODETAIL_ELASTICSEARCH_API_KEY_FILE: apiKeyFile,
  }).elasticsearch;
  assert.equal(es?.password, 's3cret-from-file');
  assert.equal(es?.apiKey, 'aWQ6a2V5');
  assert.equal(loadConfig([], { ...ES, ELASTICSEARCH_API_KEY: 'inline-key' }).elasticsearch?.apiKey, 'inline-key');
  const missing = join(dir, 'missing');
  assertConfigError([], { ...ES, NODETAIL_ELASTICSEARCH_PASSWORD_FILE: missing }, 'elasticsearch_password_file', `cannot read ${missing}: ENOENT`);
});

test('a secret given a non-scalar value in YAML is reported without its value', async (t) => {
  const { argv, path } = await yamlArgs(t, 'elasticsearch_password:\n  - hunter2\n');
  assertConfigError(argv, {}, 'elasticsearch_password', `in ${path}: expected a string, got <redacted>`);
});

test('a YAML syntax error does not quote the line that holds a secret', async (t) => {
  const { argv } = await yamlArgs(t, 'elasticsearch_password: hunter2: x\n');
  assert.throws(() => loadConfig(argv, {}), (e: unknown) => e instanceof ConfigError && e.key === '--config' && e.message.includes('line 1') && !e.message.includes('hunter2'));
});

test('settings that make index names are checked with Elasticsearch\'s index name rules at start-up, naming the key', () => {
  const es = { ELASTICSEARCH_URL: 'http://es:9200' };
  assertConfigError([], { ...es, NODETAIL_LOGSTASH_PREFIX: 'Kube' }, 'logstash_prefix (NODETAIL_LOGSTASH_PREFIX)',
    '"Kube" makes the index name "Kube-1.1.1", which Elasticsearch refuses: an index name must be lowercase');
  assertConfigError([], { ...es, FLUENT_ELASTICSEARCH_LOGSTASH_PREFIX: '_logs' }, 'logstash_prefix (FLUENT_ELASTICSEARCH_LOGSTASH_PREFIX)',
    '"_logs" makes the index name "_logs-1.1.1", which Elasticsearch refuses: an index name must not start with -, _ or +');
  assertConfigError([], { ...es, NODETAIL_LOGSTASH_DATEFORMAT: '%Y/%m/%d' }, 'logstash_dateformat (NODETAIL_LOGSTASH_DATEFORMAT)',
    '"%Y/%m/%d" makes the index name "logstash-1/1/1", which Elasticsearch refuses: an index name must not contain \\ / * ? " < > | , # or a space');
  assertConfigError([], { ...es, NODETAIL_DATA_STREAM_DATASET: 'my app' }, 'data_stream_dataset (NODETAIL_DATA_STREAM_DATASET)',
    '"my app" makes the index name "logs-my app-default", which Elasticsearch refuses: an index name must not contain \\ / * ? " < > | , # or a space');
  assertConfigError([], { ...es, NODETAIL_DATA_STREAM_NAMESPACE: 'Prod#1' }, 'data_stream_namespace (NODETAIL_DATA_STREAM_NAMESPACE)',
    '"Prod#1" makes the index name "logs-kubernetes-Prod#1", which Elasticsearch refuses: an index name must be lowercase');
  // Valid names, and names that do not matter without Elasticsearch, pass.
  assert.equal(loadConfig([], { ...es, NODETAIL_LOGSTASH_PREFIX: 'kube.logs+x', NODETAIL_LOGSTASH_DATEFORMAT: '%Y-%m' }).elasticsearch?.logstashPrefix, 'kube.logs+x');
  assert.equal(loadConfig([], { NODETAIL_LOGSTASH_PREFIX: 'Kube' }).elasticsearch, undefined);
});

test('inside a cluster, no Elasticsearch URL stops the start naming elasticsearch_url, unless stdout was chosen', () => {
  const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1' };
  assert.throws(() => loadConfig([], inCluster), (err: ConfigError) => err.key === 'elasticsearch_url' && /inside a Kubernetes cluster/.test(err.message) && /NODETAIL_OUTPUT=stdout/.test(err.message));
  assert.equal(loadConfig([], { ...inCluster, NODETAIL_OUTPUT: 'stdout' }).elasticsearch, undefined);
  assert.equal(loadConfig([], { ...inCluster, ELASTICSEARCH_URL: 'https://es:9200' }).elasticsearch?.urls[0]?.host, 'es:9200');
  // outside a cluster `npm start` prints to stdout, as the README promises
  assert.equal(loadConfig([], {}).elasticsearch, undefined);
  assert.throws(() => loadConfig([], { NODETAIL_OUTPUT: 'elasticsearch' }), (err: ConfigError) => err.key === 'elasticsearch_url');
  assert.throws(() => loadConfig([], { NODETAIL_OUTPUT: 'stdout', ELASTICSEARCH_URL: 'https://es:9200' }), (err: ConfigError) => err.key === 'output');
});

test('honor_exclude_annotations: on by default, off on request', () => {
  assert.equal(loadConfig([], {}).honorExcludeAnnotations, true);
  assert.equal(loadConfig([], { NODETAIL_HONOR_EXCLUDE_ANNOTATIONS: 'false' }).honorExcludeAnnotations, false);
});

test('Fluentd migration: LOGSTASH_FORMAT=false with LOGSTASH_INDEX_NAME writes into that one index; true keeps daily indices', () => {
  const fluent = { FLUENT_ELASTICSEARCH_HOST: 'es' };
  const fixed = loadConfig([], { ...fluent, FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT: 'false', FLUENT_ELASTICSEARCH_LOGSTASH_INDEX_NAME: 'k8s-logs' }).elasticsearch;
  assert.deepEqual([fixed?.indexMode, fixed?.indexName], ['index', 'k8s-logs']);
  // Fluentd's default index_name is logstash.
  assert.deepEqual(loadConfig([], { ...fluent, FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT: 'false' }).elasticsearch?.indexName, 'logstash');
  assert.equal(loadConfig([], { ...fluent, FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT: 'true', FLUENT_ELASTICSEARCH_LOGSTASH_INDEX_NAME: 'k8s-logs' }).elasticsearch?.indexMode, 'logstash');
  // The canonical variable wins; a bad value or an index name Elasticsearch refuses stops start-up naming the variable.
  assert.equal(loadConfig([], { ...fluent, NODETAIL_INDEX_MODE: 'data_stream', FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT: 'false' }).elasticsearch?.indexMode, 'data_stream');
  assertConfigError([], { ...fluent, FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT: 'maybe' }, 'index_mode (FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT)', 'expected one of logstash, data_stream, index, got "maybe"');
  assertConfigError([], { ...fluent, FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT: 'false', FLUENT_ELASTICSEARCH_LOGSTASH_INDEX_NAME: 'K8s' }, 'index_name (FLUENT_ELASTICSEARCH_LOGSTASH_INDEX_NAME)',
    '"K8s" makes the index name "K8s", which Elasticsearch refuses: an index name must be lowercase');
});

test('Fluentd migration: tail path, retry interval, chunk size and Kubernetes URL map to their nodetail keys', () => {
  const config = loadConfig([], {
    FLUENT_ELASTICSEARCH_HOST: 'es',
    FLUENT_CONTAINER_TAIL_PATH: '/var/log/containers/app-*.log',
    FLUENT_ELASTICSEARCH_BUFFER_RETRY_MAX_INTERVAL: '60',
    FLUENT_ELASTICSEARCH_BUFFER_CHUNK_LIMIT_SIZE: '8M',
    FLUENT_FILTER_KUBERNETES_URL: 'https://10.0.0.1:6443/api',
  });
  // The container pattern is replaced; host logs, other sources in Fluentd's image, are still read.
  assert.deepEqual(config.paths, ['/var/log/containers/app-*.log', '/var/log/syslog', '/var/log/messages', '/var/log/secure', '/var/log/*.log']);
  assert.equal(config.elasticsearch?.retryMaxBackoffMs, 60_000); // seconds, as Fluentd reads it
  assert.equal(config.batchMaxBytes, 8 * 1024 * 1024); // Fluentd's M is MiB
  assert.equal(config.kubernetesUrl, 'https://10.0.0.1:6443'); // nodetail adds /api/v1 itself
  assert.equal(loadConfig([], { FLUENT_ELASTICSEARCH_BUFFER_CHUNK_LIMIT_SIZE: '512k' }).batchMaxBytes, 512 * 1024);
  assert.equal(loadConfig([], { FLUENT_ELASTICSEARCH_BUFFER_RETRY_MAX_INTERVAL: '2m' }).elasticsearch, undefined);
  // The canonical names win, and NODETAIL_ sizes keep their own units (M alone is not one).
  assert.deepEqual(loadConfig([], { NODETAIL_PATHS: '/a/*.log', FLUENT_CONTAINER_TAIL_PATH: '/b/*.log' }).paths, ['/a/*.log']);
  assertConfigError([], { NODETAIL_BATCH_MAX_BYTES: '8M' }, 'batch_max_bytes (NODETAIL_BATCH_MAX_BYTES)',
    'expected a size in bytes from 1024 to 1073741824 (a number, optionally with KiB, MiB, GiB, KB, MB or GB), got "8M"');
});

test('a "%" that starts no escape in the URL\'s credentials stops start-up naming the key, never printing the password', () => {
  const url = 'http://elastic:ab%zzcd@es:9200';
  const err = assertConfigError([], { ELASTICSEARCH_URL: url }, 'elasticsearch_url',
    `the user name or password in ${JSON.stringify(redactUrl(url))} holds a "%" that starts no escape: URL-encode it (%25), or set elasticsearch_username and elasticsearch_password instead`);
  assert.ok(!err.message.includes('ab%zzcd'), err.message);
  assert.equal(loadConfig([], { ELASTICSEARCH_URL: 'http://elastic:ab%25zz@es:9200' }).elasticsearch?.urls[0]?.password, 'ab%25zz');
});
