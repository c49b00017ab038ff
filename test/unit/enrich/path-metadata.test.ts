import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFile, isRotatedName } from '../../../agent/enrich/path-metadata.ts';

const ID = '5d3a9b1c0e7f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b'; // 64 hex
const UID = '0c7a1f9e-4b1d-4c51-9f3b-2d1f8d1a2b3c';

test('a /var/log/containers link name gives pod, namespace, container and container id', () => {
  assert.deepEqual(describeFile([`/var/log/containers/web-7d9f-x2k4p_shop_nginx-${ID}.log`]), {
    source: 'containers',
    meta: { pod: 'web-7d9f-x2k4p', namespace: 'shop', container: 'nginx', containerId: ID },
  });
});

test('a container name with dashes is split at the last dash before the id', () => {
  assert.deepEqual(describeFile([`/var/log/containers/api-0_prod-eu_istio-proxy-sidecar-${ID}.log`]).meta, {
    pod: 'api-0', namespace: 'prod-eu', container: 'istio-proxy-sidecar', containerId: ID,
  });
  // A container name that ends in hex-looking words still keeps them.
  assert.deepEqual(describeFile([`/var/log/containers/p_ns_cafe-beef-${ID}.log`]).meta, {
    pod: 'p', namespace: 'ns', container: 'cafe-beef', containerId: ID,
  });
});

test('a link name cut at the 255-byte limit keeps a truncated container id', () => {
  const pod = 'a'.repeat(180);
  const ns = 'n'.repeat(40);
  const cut = ID.slice(0, 255 - `${pod}_${ns}_app-.log`.length);
  const name = `${pod}_${ns}_app-${cut}.log`;
  assert.equal(name.length, 255);
  assert.equal(cut.length, 25);
  assert.deepEqual(describeFile([`/var/log/containers/${name}`]), {
    source: 'containers',
    meta: { pod, namespace: ns, container: 'app', containerId: cut },
  });
});

test('/var/log/pods paths give namespace, pod, uid, container and restart count, rotated and compressed too', () => {
  const expected = { namespace: 'kube-system', pod: 'coredns-5d78c9869d-abcde', podUid: UID, container: 'coredns', restartCount: 3 };
  for (const suffix of ['', '.20261122-101500', '.20261122-101500.gz']) {
    assert.deepEqual(describeFile([`/var/log/pods/kube-system_coredns-5d78c9869d-abcde_${UID}/coredns/3.log${suffix}`]), { source: 'pods', meta: expected }, suffix);
  }
  // A static pod's uid is a config hash, not a UUID.
  assert.deepEqual(describeFile(['/var/log/pods/kube-system_etcd-node-a_8e3b0c44298fc1c149afbf4c8996fb92/etcd/0.log']).meta, {
    namespace: 'kube-system', pod: 'etcd-node-a', podUid: '8e3b0c44298fc1c149afbf4c8996fb92', container: 'etcd', restartCount: 0,
  });
});

test('pods paths that do not follow kubelet’s layout are not pods', () => {
  for (const path of [
    `/var/log/pods/ns_pod_${UID}/c/0.log.1`, // not kubelet's rotation suffix
    `/var/log/pods/ns_pod_${UID}/c/x.log`,
    `/var/log/pods/nspod${UID}/c/0.log`,
    `/var/log/pods/ns_pod_${UID}/0.log`,
  ]) {
    assert.deepEqual(describeFile([path]), { source: 'host', meta: {} }, path);
  }
});

test('docker json-file paths give the container id, rotated ones too; a mismatched id is not docker', () => {
  for (const suffix of ['', '.1', '.12']) {
    assert.deepEqual(describeFile([`/var/lib/docker/containers/${ID}/${ID}-json.log${suffix}`]), { source: 'docker', meta: { containerId: ID } });
  }
  const other = ID.replace('5d3a', '6d3a');
  assert.deepEqual(describeFile([`/var/lib/docker/containers/${ID}/${other}-json.log`]), { source: 'host', meta: {} });
});

test('host paths, and container paths with bad ids, are host files without metadata', () => {
  for (const path of ['/var/log/syslog', '/var/log/kube-proxy.log', '/var/log/containers/README', `/var/log/containers/p_ns_c-${ID}0.log`, '/var/log/containers/p_ns_c-xyz.log']) {
    assert.deepEqual(describeFile([path]), { source: 'host', meta: {} }, path);
  }
  assert.deepEqual(describeFile([]), { source: 'host', meta: {} });
});

test('a node tree mounted under another root parses the same', () => {
  assert.deepEqual(describeFile([`/tmp/node-1/var/log/pods/ns_p_${UID}/c/1.log`]), {
    source: 'pods', meta: { namespace: 'ns', pod: 'p', podUid: UID, container: 'c', restartCount: 1 },
  });
});

test('describeFile merges every hop: the first path names the source, later paths fill what it lacks', () => {
  const link = `/var/log/containers/web-1_shop_nginx-${ID}.log`;
  const pods = `/var/log/pods/shop_web-1_${UID}/nginx/2.log`;
  const docker = `/var/lib/docker/containers/${ID}/${ID}-json.log`;
  assert.deepEqual(describeFile([link, pods]), {
    source: 'containers',
    meta: { pod: 'web-1', namespace: 'shop', container: 'nginx', containerId: ID, podUid: UID, restartCount: 2 },
  });
  assert.deepEqual(describeFile([link, pods, docker]).source, 'containers');
  // dockershim: link -> docker file; the id comes from the link and agrees.
  assert.deepEqual(describeFile([link, docker]), {
    source: 'containers',
    meta: { pod: 'web-1', namespace: 'shop', container: 'nginx', containerId: ID },
  });
  // An unrecognised first hop does not name the source; the first recognised one does.
  assert.deepEqual(describeFile(['/host/logs/app.log', pods]), {
    source: 'pods',
    meta: { namespace: 'shop', pod: 'web-1', podUid: UID, container: 'nginx', restartCount: 2 },
  });
  // Earlier hops win where two disagree.
  assert.equal(describeFile([pods, `/var/log/pods/other_x_${UID}/y/9.log`]).meta.namespace, 'shop');
});

test('isRotatedName tells rotated, compressed and temporary files from live ones', () => {
  const rotated = [
    '/var/log/pods/ns_p_u/c/0.log.20261122-101500',
    '/var/log/pods/ns_p_u/c/0.log.20261122-101500.gz',
    '/var/log/pods/ns_p_u/c/0.log.20261122-101500.tmp',
    `/var/lib/docker/containers/${ID}/${ID}-json.log.1`,
    '/var/log/syslog.2.gz',
    '/var/log/something.tmp',
  ];
  const live = [
    '/var/log/pods/ns_p_u/c/0.log',
    `/var/lib/docker/containers/${ID}/${ID}-json.log`,
    `/var/log/containers/p_ns_c-${ID}.log`,
    '/var/log/syslog',
    '/var/log/kern.log',
    '/var/log/gz/app.log', // only the name counts
  ];
  for (const path of rotated) assert.equal(isRotatedName(path), true, path);
  for (const path of live) assert.equal(isRotatedName(path), false, path);
});
