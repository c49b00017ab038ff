import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPodCache } from '../../../agent/enrich/pod-cache.ts';
import type { PodCache } from '../../../agent/enrich/pod-cache.ts';
import { nullObserver } from '../../../agent/core/observer.ts';
import type { Log } from '../../../agent/core/log.ts';
import type { PodInfo } from '../../../agent/core/pod-metadata.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';

const NODE = 'node-a';
const TOKEN = 'token-one-7f3a';

interface Logged {
  readonly level: string;
  readonly fields: object;
  readonly message: string;
}

interface Setup {
  readonly api: FakeKubeApi;
  readonly cache: PodCache;
  readonly tokenFile: string;
  readonly restarts: string[];
  readonly logs: Logged[];
}

/** A fake API holding `namespaces`, a token file, and a cache (not started) watching node-a. */
async function setup(
  t: TestContext,
  options: { deletedPodTtlMs?: number; maxPods?: number; apiDown?: boolean; apiUrl?: string } = {},
): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-pod-cache-'));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`);
  const api = await FakeKubeApi.start({ token: TOKEN });
  api.putNamespace(FakeKubeApi.namespace('shop', { team: 'payments' }));
  if (options.apiDown === true) await api.stop();
  const restarts: string[] = [];
  const logs: Logged[] = [];
  const record = (level: string) => (fields: object, message: string) => void logs.push({ level, fields, message });
  const log: Log = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
  const cache = createPodCache({
    apiUrl: options.apiUrl ?? api.url,
    serviceHost: undefined,
    servicePort: undefined,
    tokenFile,
    caFile: join(dir, 'ca.crt'),
    nodeName: NODE,
    deletedPodTtlMs: options.deletedPodTtlMs ?? 60_000,
    ...(options.maxPods === undefined ? {} : { maxPods: options.maxPods }),
    log,
    observer: { ...nullObserver, kubernetesWatchRestart: (reason) => void restarts.push(reason) },
    retry: { initialMs: 10, maxMs: 80 },
  });
  t.after(async () => {
    await cache.close();
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { api, cache, tokenFile, restarts, logs };
}

/** Polls `probe` until it gives a value (not undefined or false), for at most `ms`. */
async function eventually<T>(what: string, probe: () => T | undefined | false, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

const byUid = (cache: PodCache, podUid: string) => cache.lookup({ podUid });
const byName = (cache: PodCache, namespace: string, pod: string) => cache.lookup({ namespace, pod });

function shopPod(name: string, uid: string, labels: Record<string, string> = { app: name }) {
  return FakeKubeApi.pod({ namespace: 'shop', name, uid, nodeName: NODE, labels });
}

test('lists this node\'s pods, then watches from the list\'s version', async (t) => {
  const { api, cache } = await setup(t);
  api.putPod(FakeKubeApi.pod({
    namespace: 'shop',
    name: 'web-7d9f8b6c5d-x2x9q',
    uid: 'uid-web',
    nodeName: NODE,
    labels: { app: 'web', 'pod-template-hash': '7d9f8b6c5d' },
    annotations: { 'prometheus.io/scrape': 'true' },
    owner: { kind: 'ReplicaSet', name: 'web-7d9f8b6c5d' },
    podIp: '10.1.2.3',
    containers: [
      { name: 'app', image: 'shop/web:2.1', containerId: 'containerd://abc123', imageId: 'docker.io/shop/web@sha256:1111' },
      { name: 'proxy', image: 'envoy:1.30', containerId: 'cri-o://def456' },
      { name: 'legacy', image: 'busybox', containerId: 'docker://0a0b0c' },
      { name: 'pending', image: 'redis:7' },
    ],
    initContainers: [{ name: 'migrate', image: 'shop/migrate:2.1', containerId: 'containerd://init789' }],
  }));
  api.putPod(FakeKubeApi.pod({ namespace: 'shop', name: 'elsewhere', uid: 'uid-elsewhere', nodeName: 'node-b' }));

  const started = Date.now();
  await cache.start();
  assert.ok(Date.now() - started < 500, 'start() resolves at once');
  const info = await eventually('the listed pod', () => byUid(cache, 'uid-web'));

  const expected: PodInfo = {
    uid: 'uid-web',
    namespace: 'shop',
    name: 'web-7d9f8b6c5d-x2x9q',
    labels: { app: 'web', 'pod-template-hash': '7d9f8b6c5d' },
    annotations: { 'prometheus.io/scrape': 'true' },
    namespaceLabels: { 'kubernetes.io/metadata.name': 'shop', team: 'payments' },
    nodeName: NODE,
    podIp: '10.1.2.3',
    owner: { kind: 'Deployment', name: 'web' },
    containers: [
      { name: 'app', image: 'shop/web:2.1', imageId: 'docker.io/shop/web@sha256:1111', containerId: 'abc123' },
      { name: 'proxy', image: 'envoy:1.30', imageId: undefined, containerId: 'def456' },
      { name: 'legacy', image: 'busybox', imageId: undefined, containerId: '0a0b0c' },
      { name: 'pending', image: 'redis:7', imageId: undefined, containerId: undefined },
      { name: 'migrate', image: 'shop/migrate:2.1', imageId: undefined, containerId: 'init789' },
    ],
    excluded: false,
  };
  // Namespace labels come from a second watch: wait for them before comparing the whole object.
  const full = await eventually('namespace labels', () => {
    const current = byUid(cache, 'uid-web');
    return current?.namespaceLabels.team === 'payments' ? current : undefined;
  });
  assert.deepEqual(full, expected);
  assert.equal(info.uid, 'uid-web');
  assert.ok(Object.isFrozen(full) && Object.isFrozen(full.labels) && Object.isFrozen(full.containers));
  assert.equal(byName(cache, 'shop', 'web-7d9f8b6c5d-x2x9q'), full);
  assert.equal(cache.lookup({ containerId: 'def456' }), full, 'a docker-layout path has only the container id');
  assert.equal(byUid(cache, 'uid-elsewhere'), undefined, 'pods of other nodes are not listed');
  assert.equal(cache.size(), 1);
  assert.equal(cache.synced(), true);

  await eventually('the pod watch', () => api.watching('pods') === 1);
  const pods = api.requests.filter((request) => request.resource === 'pods');
  assert.equal(pods.length, 2);
  const [list, watch] = pods;
  assert.equal(list?.watch, false);
  assert.equal(list?.query.get('fieldSelector'), `spec.nodeName=${NODE}`);
  assert.equal(list?.query.get('resourceVersion'), '0');
  assert.equal(watch?.watch, true);
  assert.equal(watch?.query.get('fieldSelector'), `spec.nodeName=${NODE}`);
  assert.equal(watch?.query.get('allowWatchBookmarks'), 'true');
  assert.equal(watch?.query.get('resourceVersion'), '103', 'the version of the list (namespace 101, pods 102 and 103)');
  const namespaces = api.requests.filter((request) => request.resource === 'namespaces');
  assert.equal(namespaces[0]?.query.get('fieldSelector'), null, 'namespaces are watched cluster-wide');
});

test('a pod added after start appears; a label change replaces the object and bumps the generation', async (t) => {
  const { api, cache } = await setup(t);
  await cache.start();
  await eventually('the pod watch', () => api.watching('pods') === 1);
  assert.equal(byUid(cache, 'uid-new'), undefined);

  const created = api.putPod(shopPod('new', 'uid-new', { app: 'new', tier: 'a' }));
  const first = await eventually('the added pod', () => byUid(cache, 'uid-new'), 2000);
  assert.deepEqual(first.labels, { app: 'new', tier: 'a' });
  const generation = cache.generation();

  api.putPod({ ...created, metadata: { ...created.metadata, labels: { app: 'new', tier: 'b' } } });
  const second = await eventually('the new labels', () => {
    const current = byUid(cache, 'uid-new');
    return current?.labels.tier === 'b' ? current : undefined;
  });
  assert.notEqual(second, first, 'a change is a new object');
  assert.deepEqual(first.labels, { app: 'new', tier: 'a' }, 'the old object is untouched');
  assert.ok(cache.generation() > generation);

  // A status-only update (nothing a record carries) keeps the object and the generation.
  const afterLabels = cache.generation();
  api.putPod({ ...created, metadata: { ...created.metadata, labels: { app: 'new', tier: 'b' } }, status: { ...(created.status as object), phase: 'Succeeded' } });
  api.putPod(shopPod('marker', 'uid-marker'));
  await eventually('the marker pod', () => byUid(cache, 'uid-marker'));
  assert.equal(byUid(cache, 'uid-new'), second);
  assert.equal(cache.generation(), afterLabels + 1, 'only the marker pod bumped it');
});

test('a deleted pod stays for the TTL, then is gone', async (t) => {
  const ttl = 400;
  const { api, cache } = await setup(t, { deletedPodTtlMs: ttl });
  api.putPod(shopPod('short', 'uid-short'));
  await cache.start();
  await eventually('the listed pod', () => byUid(cache, 'uid-short'));
  await eventually('the pod watch', () => api.watching('pods') === 1);

  api.deletePod('uid-short');
  const deletedAt = Date.now();
  api.putPod(shopPod('marker', 'uid-marker')); // the watch is ordered: once this is seen, so is the delete
  await eventually('the marker pod', () => byUid(cache, 'uid-marker'));
  assert.equal(byUid(cache, 'uid-short')?.name, 'short', 'late lines still find it');
  assert.equal(byName(cache, 'shop', 'short')?.uid, 'uid-short');

  await eventually('the deleted pod to expire', () => byUid(cache, 'uid-short') === undefined, ttl + 2000);
  assert.ok(Date.now() - deletedAt >= ttl - 50, `kept for the TTL (${Date.now() - deletedAt} ms)`);
  assert.equal(byName(cache, 'shop', 'short'), undefined);
  await eventually('the sweep to free it', () => cache.size() === 1, 2000);
});

test('a 410 in the middle of a watch relists, and nothing is lost', async (t) => {
  const { api, cache, restarts } = await setup(t, { deletedPodTtlMs: 300 });
  api.putPod(shopPod('old', 'uid-old'));
  await cache.start();
  await eventually('the pod watch', () => api.watching('pods') === 1 && byUid(cache, 'uid-old'));

  // Changes made while the cache cannot watch them: it must learn them from the relist.
  api.compact();
  api.putPod(shopPod('born', 'uid-born'));
  api.deletePod('uid-old');

  await eventually('the pod added during the gap', () => byUid(cache, 'uid-born'));
  await eventually('the pod deleted during the gap to expire', () => byUid(cache, 'uid-old') === undefined, 2000);
  assert.ok(restarts.includes('gone'), `restarts: ${restarts.join(',')}`);
  const lists = api.requests.filter((request) => request.resource === 'pods' && !request.watch);
  assert.ok(lists.length >= 2, 'listed again');

  // After the relist the watch goes on: a later pod arrives through it.
  api.putPod(shopPod('after', 'uid-after'));
  await eventually('a pod after the relist', () => byUid(cache, 'uid-after'));
});

test('an HTTP 410 answer to a watch request relists', async (t) => {
  const { api, cache, restarts } = await setup(t);
  await cache.start();
  await eventually('the pod watch', () => api.watching('pods') === 1);
  api.answerWatchGone('pods');
  api.dropWatches('pods');
  api.putPod(shopPod('later', 'uid-later'));
  await eventually('the pod after the 410', () => byUid(cache, 'uid-later'));
  const pods = api.requests.filter((request) => request.resource === 'pods');
  assert.deepEqual(pods.map((request) => `${request.watch ? 'watch' : 'list'} ${request.status}`).slice(0, 4), ['list 200', 'watch 200', 'watch 410', 'list 200']);
  assert.ok(restarts.includes('gone'));
});

test('a dropped connection reconnects and resumes from the last version, without a relist', async (t) => {
  const { api, cache, restarts } = await setup(t);
  await cache.start();
  await eventually('the pod watch', () => api.watching('pods') === 1);
  api.putPod(shopPod('one', 'uid-one'));
  await eventually('a first pod', () => byUid(cache, 'uid-one'));
  api.bookmark();
  await sleep(20);

  api.dropWatches();
  api.putPod(shopPod('two', 'uid-two')); // made while disconnected: replayed from history
  await eventually('the pod made while disconnected', () => byUid(cache, 'uid-two'));
  assert.ok(restarts.includes('connection'), `restarts: ${restarts.join(',')}`);
  const pods = api.requests.filter((request) => request.resource === 'pods');
  assert.equal(pods.filter((request) => !request.watch).length, 1, 'no relist');
  const watches = pods.filter((request) => request.watch);
  assert.equal(watches[1]?.query.get('resourceVersion'), '102', 'from the bookmark after pod one');
});

test('an expired token is answered 401; the token file is read again and the cache recovers', async (t) => {
  const { api, cache, tokenFile, restarts, logs } = await setup(t);
  await cache.start();
  await eventually('the pod watch', () => api.watching('pods') === 1);

  const rotated = 'token-two-9c1e';
  api.token = rotated; // the old token expired
  api.dropWatches();
  await eventually('a 401 on the pod watch', () => api.requests.some((request) => request.status === 401 && request.resource === 'pods'));
  api.putPod(shopPod('meanwhile', 'uid-meanwhile'));
  await writeFile(tokenFile, `${rotated}\n`); // kubelet refreshed the projected token
  await eventually('recovery with the new token', () => byUid(cache, 'uid-meanwhile'), 3000);

  assert.ok(restarts.includes('unauthorized'), `restarts: ${restarts.join(',')}`);
  // Logged once for the outage (not at every retry), naming the file, never the token.
  const warnings = logs.filter((entry) => entry.level === 'warn' && entry.message.includes('did not accept the service account token'));
  assert.equal(warnings.length, 1);
  const { path, ...fields } = warnings[0]?.fields as { path: string };
  assert.match(path, /^\/api\/v1\/(pods|namespaces)$/);
  assert.deepEqual(fields, { status: 401, tokenFile, message: 'Unauthorized' });
  assert.ok(logs.some((entry) => entry.level === 'info' && entry.message.includes('accepts the service account token again')));
  const everything = JSON.stringify(logs);
  assert.ok(!everything.includes(TOKEN) && !everything.includes(rotated), 'no token in any log line');
});

test('API down at start: start() resolves, lookups are undefined, and it recovers when the API comes up', async (t) => {
  const { api, cache, restarts } = await setup(t, { apiDown: true });
  api.putPod(shopPod('waiting', 'uid-waiting'));
  const started = Date.now();
  await cache.start();
  assert.ok(Date.now() - started < 500, 'start() resolves at once');
  await eventually('a few failed attempts', () => restarts.filter((reason) => reason === 'connection').length >= 3);
  assert.equal(byUid(cache, 'uid-waiting'), undefined);
  assert.equal(cache.size(), 0);
  assert.equal(cache.synced(), false);

  assert.equal(await cache.waitForSync(50), false, 'not synced while the API is down');

  await api.resume();
  assert.equal(await cache.waitForSync(3000), true);
  assert.equal(byUid(cache, 'uid-waiting')?.name, 'waiting', 'synced means the list is applied');
  assert.equal(cache.synced(), true);
});

test('no API URL: start() resolves and says why there is no metadata', async (t) => {
  const { cache, logs } = await setup(t, { apiUrl: '' });
  await cache.start();
  assert.equal(await cache.waitForSync(1000), false);
  assert.equal(cache.lookup({ namespace: 'shop', pod: 'x' }), undefined);
  assert.equal(logs.filter((entry) => entry.level === 'error').length, 1);
  assert.match(logs.find((entry) => entry.level === 'error')?.message ?? '', /no API server URL/);
});

test('owners: Deployment through its ReplicaSet, CronJob through its Job, the rest as themselves', async (t) => {
  const { api, cache } = await setup(t);
  const owned = (name: string, owner: { kind: string; name: string } | undefined, labels: Record<string, string> = {}) =>
    api.putPod(FakeKubeApi.pod({ namespace: 'shop', name, uid: `uid-${name}`, nodeName: NODE, labels, ...(owner === undefined ? {} : { owner }) }));
  owned('labelled', { kind: 'ReplicaSet', name: 'api-server-5c6b7f9d8' }, { 'pod-template-hash': '5c6b7f9d8' });
  owned('shaped', { kind: 'ReplicaSet', name: 'worker-6d4cf56db6' });
  owned('standalone', { kind: 'ReplicaSet', name: 'web-frontend' });
  owned('daemon', { kind: 'DaemonSet', name: 'node-exporter' });
  owned('stateful', { kind: 'StatefulSet', name: 'postgres' });
  owned('scheduled', { kind: 'Job', name: 'nightly-backup-29123456' });
  owned('manual', { kind: 'Job', name: 'backup-20240101' });
  owned('plain-job', { kind: 'Job', name: 'db-migrate' });
  owned('static', { kind: 'Node', name: NODE });
  owned('bare', undefined);
  await cache.start();
  await eventually('the listed pods', () => byUid(cache, 'uid-bare'));
  const owner = (name: string) => byUid(cache, `uid-${name}`)?.owner;
  assert.deepEqual(owner('labelled'), { kind: 'Deployment', name: 'api-server' });
  assert.deepEqual(owner('shaped'), { kind: 'Deployment', name: 'worker' });
  assert.deepEqual(owner('standalone'), { kind: 'ReplicaSet', name: 'web-frontend' });
  assert.deepEqual(owner('daemon'), { kind: 'DaemonSet', name: 'node-exporter' });
  assert.deepEqual(owner('stateful'), { kind: 'StatefulSet', name: 'postgres' });
  assert.deepEqual(owner('scheduled'), { kind: 'CronJob', name: 'nightly-backup' });
  assert.deepEqual(owner('manual'), { kind: 'Job', name: 'backup-20240101' });
  assert.deepEqual(owner('plain-job'), { kind: 'Job', name: 'db-migrate' });
  assert.deepEqual(owner('static'), { kind: 'Node', name: NODE });
  assert.equal(owner('bare'), undefined);
});

test('exclusion annotations: nodetail.io/exclude and fluentbit.io/exclude equal to "true"', async (t) => {
  const { api, cache } = await setup(t);
  const annotated = (name: string, annotations: Record<string, string>) =>
    api.putPod(FakeKubeApi.pod({ namespace: 'shop', name, uid: `uid-${name}`, nodeName: NODE, annotations }));
  annotated('ours', { 'nodetail.io/exclude': 'true' });
  annotated('fluentbit', { 'fluentbit.io/exclude': 'true' });
  annotated('not-true', { 'nodetail.io/exclude': 'false', 'fluentbit.io/exclude': 'yes' });
  annotated('none', {});
  await cache.start();
  await eventually('the listed pods', () => byUid(cache, 'uid-none'));
  assert.deepEqual(
    ['ours', 'fluentbit', 'not-true', 'none'].map((name) => byUid(cache, `uid-${name}`)?.excluded),
    [true, true, false, false],
  );
});

test('a static pod is found by the config hash its log directory carries', async (t) => {
  const { api, cache } = await setup(t);
  api.putPod(mirrorPod({ namespace: 'kube-system', name: `etcd-${NODE}`, uid: 'uid-mirror' }, '3f1e2d4c5b6a'));
  await cache.start();
  await eventually('the mirror pod', () => byUid(cache, 'uid-mirror'));
  assert.equal(cache.lookup({ namespace: 'kube-system', pod: `etcd-${NODE}`, podUid: '3f1e2d4c5b6a' })?.uid, 'uid-mirror');
});

test('a pod that claims a static pod\'s config hash takes neither its metadata nor its exclusion', async (t) => {
  const { api, cache } = await setup(t);
  const etcd = { namespace: 'kube-system', pod: `etcd-${NODE}`, podUid: '3f1e2d4c5b6a' };
  // A tenant's pod: the annotation, even an owner reference to the Node, but its own namespace and name.
  api.putPod(mirrorPod({ namespace: 'shop', name: 'hide-etcd', uid: 'uid-tenant', annotations: { 'nodetail.io/exclude': 'true' } }, '3f1e2d4c5b6a'));
  // A pod with the static pod's name but not made by the kubelet (no Node owner).
  api.putPod(FakeKubeApi.pod({ namespace: 'kube-system', name: `etcd-${NODE}`, uid: 'uid-fake', nodeName: NODE, annotations: { 'kubernetes.io/config.mirror': '3f1e2d4c5b6a' } }));
  await cache.start();
  await eventually('both pods', () => byUid(cache, 'uid-tenant') && byUid(cache, 'uid-fake'));
  assert.equal(cache.lookup(etcd), undefined);
  assert.equal(cache.lookup({ ...etcd, namespace: 'shop', pod: 'hide-etcd' })?.uid, 'uid-tenant', 'its own folder still finds it');
});

/** A mirror pod as the kubelet makes it: owned by the Node, with the static pod's config hash. */
function mirrorPod(spec: { namespace: string; name: string; uid: string; annotations?: Record<string, string> }, hash: string) {
  const pod = FakeKubeApi.pod({ ...spec, nodeName: NODE, annotations: { 'kubernetes.io/config.mirror': hash, 'kubernetes.io/config.hash': hash, ...spec.annotations } });
  (pod.metadata as Record<string, unknown>).ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: NODE, uid: 'node-uid', controller: true }];
  return pod;
}

test('a namespace label change reaches its pods as new objects', async (t) => {
  const { api, cache } = await setup(t);
  api.putPod(shopPod('web', 'uid-web'));
  await cache.start();
  const before = await eventually('namespace labels', () => {
    const info = byUid(cache, 'uid-web');
    return info?.namespaceLabels.team === 'payments' ? info : undefined;
  });
  await eventually('the namespace watch', () => api.watching('namespaces') === 1);
  api.putNamespace(FakeKubeApi.namespace('shop', { team: 'checkout' }));
  const after = await eventually('the new namespace labels', () => {
    const info = byUid(cache, 'uid-web');
    return info?.namespaceLabels.team === 'checkout' ? info : undefined;
  });
  assert.notEqual(after, before);
  assert.deepEqual(after.namespaceLabels, { 'kubernetes.io/metadata.name': 'shop', team: 'checkout' });
  assert.equal(before.namespaceLabels.team, 'payments');
});

test('bounded: past max pods the oldest deleted pod goes first, and live pods are never evicted', async (t) => {
  const { api, cache, logs } = await setup(t, { maxPods: 2 });
  api.putPod(shopPod('a', 'uid-a'));
  api.putPod(shopPod('b', 'uid-b'));
  await cache.start();
  await eventually('the pod watch', () => api.watching('pods') === 1 && byUid(cache, 'uid-b'));
  api.deletePod('uid-a');
  api.putPod(shopPod('c', 'uid-c'));
  await eventually('pod c', () => byUid(cache, 'uid-c'));
  assert.equal(byUid(cache, 'uid-a'), undefined, 'the deleted pod made room');
  assert.equal(cache.size(), 2);

  api.putPod(shopPod('d', 'uid-d'));
  await eventually('the cache-full warning', () => logs.some((entry) => entry.message.includes('pod cache full')));
  assert.equal(byUid(cache, 'uid-d'), undefined);
  assert.equal(byUid(cache, 'uid-b')?.name, 'b');
  assert.equal(byUid(cache, 'uid-c')?.name, 'c');
});

test('close() before start() and twice is fine', async (t) => {
  const { cache } = await setup(t);
  await cache.close();
  await cache.close();
});

test('after a container restart both its running and its previous container ids find the pod', async (t) => {
  const { api, cache } = await setup(t);
  const pod = FakeKubeApi.pod({
    namespace: 'shop', name: 'crashy', uid: 'uid-crashy', nodeName: NODE,
    containers: [{ name: 'app', image: 'shop/crashy:1', containerId: 'containerd://running111' }],
  });
  const [status] = (pod.status as { containerStatuses: Record<string, unknown>[] }).containerStatuses;
  if (status !== undefined) {
    status.restartCount = 1;
    status.lastState = { terminated: { exitCode: 1, containerID: 'containerd://previous000' } };
  }
  api.putPod(pod);
  await cache.start();
  await eventually('the pod', () => byUid(cache, 'uid-crashy'));
  assert.equal(cache.lookup({ containerId: 'running111' })?.uid, 'uid-crashy');
  assert.equal(cache.lookup({ containerId: 'previous000' })?.uid, 'uid-crashy', 'the old file\'s lines still find their pod');
  assert.equal(byUid(cache, 'uid-crashy')?.containers[0]?.containerId, 'running111');
  assert.equal(cache.lookup({ containerId: 'unknown' }), undefined);
});
