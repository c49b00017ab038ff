import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodInfo, PodMetadataSource } from '../../../agent/core/pod-metadata.ts';
import type { LogFile, LogRecord, PathMetadata } from '../../../agent/core/record.ts';
import { createDocumentEncoder, type DocumentEncoderOptions } from '../../../agent/enrich/document-encoder.ts';

const T = '2026-11-22T10:00:00.123456789Z';
const CID = 'abc123def456';
const UID = '0c7a1f9e-4b1d-4c51-9f3b-2d1f8d1a2b3c';
const LINK = `/var/log/containers/web-7d9f_shop_nginx-${CID}.log`;

function file(source: LogFile['source'], matchedPath: string, meta: PathMetadata): LogFile {
  return { key: '1:2', idPrefix: 'p', path: matchedPath, matchedPath, source, meta };
}

/** A container file found through its /var/log/containers link (no uid, no restart count in the name). */
const LINKED = file('containers', LINK, { pod: 'web-7d9f', namespace: 'shop', container: 'nginx', containerId: CID });
/** A container file under /var/log/pods (uid and restart count, no container id). */
const PODS = file('pods', `/var/log/pods/shop_web-7d9f_${UID}/nginx/0.log`, { namespace: 'shop', pod: 'web-7d9f', podUid: UID, container: 'nginx', restartCount: 0 });
const HOST = file('host', '/var/log/syslog', {});

function record(f: LogFile, message: string, more: Partial<LogRecord> = {}): LogRecord {
  return { file: f, offset: 0, resume: 10, time: T, stream: f.source === 'host' ? undefined : 'stdout', message, truncated: false, error: undefined, ...more };
}

const POD: PodInfo = {
  uid: UID,
  namespace: 'shop',
  name: 'web-7d9f',
  labels: { app: 'web', 'app.kubernetes.io/name': 'web-shop' },
  annotations: { 'prometheus.io/scrape': 'true' },
  namespaceLabels: { 'kubernetes.io/metadata.name': 'shop' },
  nodeName: 'node-a',
  podIp: '10.1.2.3',
  owner: { kind: 'Deployment', name: 'web' },
  containers: [{ name: 'nginx', image: 'nginx:1.27', imageId: 'docker.io/library/nginx@sha256:feed', containerId: CID }],
  excluded: false,
};

/** A PodMetadataSource (the interface, an input of the encoder) over a plain map; counts lookups. */
function podSource(pods: PodInfo[]): PodMetadataSource & { bump(next: PodInfo[]): void; lookups: number } {
  let current = pods;
  let generation = 1;
  const source = {
    lookups: 0,
    lookup(meta: PathMetadata): PodInfo | undefined {
      source.lookups++;
      return current.find((p) => (meta.podUid !== undefined ? p.uid === meta.podUid : p.namespace === meta.namespace && p.name === meta.pod));
    },
    generation: () => generation,
    size: () => current.length,
    start: async () => {},
    close: async () => {},
    bump(next: PodInfo[]) {
      current = next;
      generation++;
    },
  };
  return source;
}

function encoder(options: Partial<DocumentEncoderOptions> = {}) {
  return createDocumentEncoder({ schema: 'fluentd', nodeName: 'node-a', dedotKeys: false, pods: undefined, selfPod: { namespace: undefined, name: undefined }, ...options });
}

/** Encodes and checks the document is valid JSON before returning its text. */
function encode(e: ReturnType<typeof encoder>, r: LogRecord): string {
  const text = e.encode(r);
  JSON.parse(text);
  return text;
}

test('fluentd: a container file without pod metadata', () => {
  const e = encoder();
  assert.equal(encode(e, record(LINKED, 'hello "world"\n\u0001')),
    '{"log":"hello \\"world\\"\\n\\u0001","stream":"stdout","@timestamp":"2026-11-22T10:00:00.123456789Z",'
    + '"docker":{"container_id":"abc123def456"},'
    + '"kubernetes":{"namespace_name":"shop","pod_name":"web-7d9f","container_name":"nginx","host":"node-a"}}');
  assert.equal(encode(e, record(PODS, 'x', { stream: 'stderr' })),
    '{"log":"x","stream":"stderr","@timestamp":"2026-11-22T10:00:00.123456789Z",'
    + `"kubernetes":{"namespace_name":"shop","pod_name":"web-7d9f","pod_id":"${UID}","container_name":"nginx","restart_count":0,"host":"node-a"}}`);
});

test('fluentd: a host file has host and path, no stream', () => {
  assert.equal(encode(encoder(), record(HOST, 'Nov 22 10:00:00 node-a kernel: hi')),
    '{"log":"Nov 22 10:00:00 node-a kernel: hi","@timestamp":"2026-11-22T10:00:00.123456789Z","host":"node-a","path":"/var/log/syslog"}');
});

test('fluentd: truncated and decode_error flags', () => {
  assert.equal(encode(encoder(), record(HOST, 'm', { truncated: true, error: 'malformed_cri' })),
    '{"log":"m","@timestamp":"2026-11-22T10:00:00.123456789Z","truncated":true,"decode_error":"malformed_cri","host":"node-a","path":"/var/log/syslog"}');
});

test('fluentd: pod metadata from the API, keys dedotted or not', () => {
  const pods = podSource([POD]);
  assert.equal(encode(encoder({ pods }), record(LINKED, 'm')),
    '{"log":"m","stream":"stdout","@timestamp":"2026-11-22T10:00:00.123456789Z",'
    + '"docker":{"container_id":"abc123def456"},'
    + `"kubernetes":{"namespace_name":"shop","pod_name":"web-7d9f","pod_id":"${UID}","container_name":"nginx",`
    + '"container_image":"nginx:1.27","container_image_id":"docker.io/library/nginx@sha256:feed","host":"node-a","pod_ip":"10.1.2.3",'
    + '"labels":{"app":"web","app.kubernetes.io/name":"web-shop"},"annotations":{"prometheus.io/scrape":"true"},'
    + '"namespace_labels":{"kubernetes.io/metadata.name":"shop"},"owner":{"kind":"Deployment","name":"web"}}}');
  const doc = JSON.parse(encode(encoder({ pods, dedotKeys: true }), record(LINKED, 'm')));
  assert.deepEqual(doc.kubernetes.labels, { app: 'web', 'app_kubernetes_io/name': 'web-shop' });
  assert.deepEqual(doc.kubernetes.annotations, { 'prometheus_io/scrape': 'true' });
  assert.deepEqual(doc.kubernetes.namespace_labels, { 'kubernetes_io/metadata_name': 'shop' });
});

test('fluentd: a pods-path file takes its container id from the API when the path has none', () => {
  const doc = JSON.parse(encode(encoder({ pods: podSource([POD]) }), record(PODS, 'm')));
  assert.deepEqual(doc.docker, { container_id: CID });
  assert.equal(doc.kubernetes.restart_count, 0);
});

test('ecs: a container file without pod metadata', () => {
  const e = encoder({ schema: 'ecs' });
  assert.equal(encode(e, record(PODS, 'hello', { stream: 'stderr' })),
    '{"@timestamp":"2026-11-22T10:00:00.123456789Z","message":"hello","stream":"stderr",'
    + `"log":{"file":{"path":"${PODS.matchedPath}"}},"host":{"name":"node-a"},`
    + `"kubernetes":{"node":{"name":"node-a"},"namespace":"shop","pod":{"name":"web-7d9f","uid":"${UID}"},"container":{"name":"nginx","restart_count":0}}}`);
  assert.equal(encode(e, record(LINKED, 'hello')),
    '{"@timestamp":"2026-11-22T10:00:00.123456789Z","message":"hello","stream":"stdout",'
    + `"log":{"file":{"path":"${LINK}"}},"host":{"name":"node-a"},`
    + '"kubernetes":{"node":{"name":"node-a"},"namespace":"shop","pod":{"name":"web-7d9f"},"container":{"name":"nginx"}},'
    + '"container":{"id":"abc123def456"}}');
});

test('ecs: a host file, and the flags', () => {
  const e = encoder({ schema: 'ecs' });
  assert.equal(encode(e, record(HOST, 'boot')),
    '{"@timestamp":"2026-11-22T10:00:00.123456789Z","message":"boot","log":{"file":{"path":"/var/log/syslog"}},"host":{"name":"node-a"}}');
  assert.equal(encode(e, record(HOST, 'b\uFFFDd', { truncated: true, error: 'invalid_utf8' })),
    '{"@timestamp":"2026-11-22T10:00:00.123456789Z","message":"b\uFFFDd","error":{"type":"invalid_utf8"},'
    + '"log":{"file":{"path":"/var/log/syslog"},"flags":["truncated"]},"host":{"name":"node-a"}}');
});

test('ecs: pod metadata from the API', () => {
  assert.equal(encode(encoder({ schema: 'ecs', dedotKeys: true, pods: podSource([POD]) }), record(LINKED, 'm')),
    '{"@timestamp":"2026-11-22T10:00:00.123456789Z","message":"m","stream":"stdout",'
    + `"log":{"file":{"path":"${LINK}"}},"host":{"name":"node-a"},`
    + `"kubernetes":{"node":{"name":"node-a"},"namespace":"shop","pod":{"name":"web-7d9f","uid":"${UID}","ip":"10.1.2.3"},"container":{"name":"nginx"},`
    + '"labels":{"app":"web","app_kubernetes_io/name":"web-shop"},"annotations":{"prometheus_io/scrape":"true"},'
    + '"namespace_labels":{"kubernetes_io/metadata_name":"shop"},"owner":{"kind":"Deployment","name":"web"}},'
    + '"container":{"id":"abc123def456","image":{"name":"nginx:1.27"}}}');
});

test('the per-file fragment is computed once per generation; a bump brings in new metadata', () => {
  const pods = podSource([]);
  const e = encoder({ pods });
  const before = JSON.parse(encode(e, record(LINKED, 'one')));
  assert.equal(before.kubernetes.labels, undefined);
  encode(e, record(LINKED, 'two'));
  encode(e, record(HOST, 'host'));
  encode(e, record(LINKED, 'three'));
  assert.equal(pods.lookups, 2); // LINKED once, HOST once, whatever the interleaving
  pods.bump([POD]);
  const after = JSON.parse(encode(e, record(LINKED, 'four')));
  assert.deepEqual(after.kubernetes.labels, POD.labels);
  assert.equal(after.kubernetes.container_image, 'nginx:1.27');
  assert.equal(pods.lookups, 3);
  pods.bump([{ ...POD, labels: { app: 'web2' } }]);
  assert.deepEqual(JSON.parse(encode(e, record(LINKED, 'five'))).kubernetes.labels, { app: 'web2' });
});

test('a pod annotated excluded is excluded; so is the agent’s own pod, and nothing else', () => {
  const pods = podSource([{ ...POD, excluded: true }]);
  assert.equal(encoder({ pods }).excluded(LINKED), true);
  assert.equal(encoder({ pods: podSource([POD]) }).excluded(LINKED), false);
  assert.equal(encoder().excluded(LINKED), false);
  assert.equal(encoder().excluded(HOST), false);
  // Turned off, the annotation is ignored; the agent's own pod is still left out.
  assert.equal(encoder({ pods, honorExcludeAnnotations: false }).excluded(LINKED), false);

  const self = file('pods', '/var/log/pods/logging_nodetail-x7k2p_u/nodetail/0.log', { namespace: 'logging', pod: 'nodetail-x7k2p', podUid: 'u', container: 'nodetail', restartCount: 0 });
  const sameNameElsewhere = file('pods', '/var/log/pods/other_nodetail-x7k2p_v/nodetail/0.log', { namespace: 'other', pod: 'nodetail-x7k2p', podUid: 'v', container: 'nodetail', restartCount: 0 });
  const withNamespace = encoder({ selfPod: { namespace: 'logging', name: 'nodetail-x7k2p' } });
  assert.equal(withNamespace.excluded(self), true);
  assert.equal(encoder({ selfPod: { namespace: 'logging', name: 'nodetail-x7k2p' }, honorExcludeAnnotations: false }).excluded(self), true);
  assert.equal(withNamespace.excluded(sameNameElsewhere), false);
  assert.equal(withNamespace.excluded(LINKED), false);
  assert.equal(withNamespace.excluded(HOST), false);
  const nameOnly = encoder({ selfPod: { namespace: undefined, name: 'nodetail-x7k2p' } });
  assert.equal(nameOnly.excluded(self), true);
  assert.equal(nameOnly.excluded(sameNameElsewhere), true);
  assert.equal(encoder({ selfPod: { namespace: 'logging', name: undefined } }).excluded(self), false);
});

test('exclusion follows the metadata generation: an annotation added later excludes from then on', () => {
  const pods = podSource([POD]);
  const e = encoder({ pods });
  assert.equal(e.excluded(LINKED), false);
  pods.bump([{ ...POD, excluded: true }]);
  assert.equal(e.excluded(LINKED), true);
});

test('every document is valid JSON whatever the message holds', () => {
  const messages = ['', '"', '\\', '\u2028\u2029', '\u0000\u001f', '</script>', '🙂 日本', 'a\r\nb', '{"log":"nested"}'];
  for (const schema of ['fluentd', 'ecs'] as const) {
    const e = encoder({ schema, pods: podSource([POD]) });
    for (const f of [LINKED, PODS, HOST]) {
      for (const m of messages) {
        const doc = JSON.parse(e.encode(record(f, m)));
        assert.equal(schema === 'fluentd' ? doc.log : doc.message, m);
        assert.equal(doc['@timestamp'], T);
      }
    }
  }
});
