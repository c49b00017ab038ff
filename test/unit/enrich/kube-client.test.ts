import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createKubeClient } from '../../../agent/enrich/kube-client.ts';
import type { KubeClient, KubeWatchEvent } from '../../../agent/enrich/kube-client.ts';
import { kubeApiUrl } from '../../../agent/enrich/kube-api-url.ts';
import { nullLog } from '../../../agent/core/log.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';

const TOKEN = 'kube-client-token';

interface Setup {
  readonly dir: string;
  readonly tokenFile: string;
  readonly cert: string;
  readonly key: string;
}

/** A temp dir with a token file and a self-signed certificate for 127.0.0.1 (made by openssl). */
async function setup(t: TestContext): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-kube-client-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, TOKEN);
  const certFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'key.pem');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { timeout: 10_000 });
  return { dir, tokenFile, cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}

async function tlsApi(t: TestContext, files: Setup): Promise<FakeKubeApi> {
  const api = await FakeKubeApi.start({ token: TOKEN, tls: { key: files.key, cert: files.cert } });
  t.after(() => api.close());
  return api;
}

function client(t: TestContext, baseUrl: string, files: Setup, caFile = join(files.dir, 'ca.crt')): KubeClient {
  const kube = createKubeClient({ baseUrl, tokenFile: files.tokenFile, caFile, log: nullLog, requestTimeoutMs: 2000 });
  t.after(() => kube.close());
  return kube;
}

test('in-cluster over TLS: the CA file verifies the server, the token file authenticates', async (t) => {
  const files = await setup(t);
  const api = await tlsApi(t, files);
  api.putPod(FakeKubeApi.pod({ namespace: 'ns', name: 'p', uid: 'uid-p', nodeName: 'n1' }));
  const baseUrl = kubeApiUrl(undefined, '127.0.0.1', String(api.port));
  assert.equal(baseUrl, `https://127.0.0.1:${api.port}`);
  const kube = client(t, baseUrl ?? '', files);

  const listed = await kube.list('/api/v1/pods', { fieldSelector: 'spec.nodeName=n1', resourceVersion: '0' }, new AbortController().signal);
  assert.equal(listed.kind, 'ok');
  assert.equal(listed.kind === 'ok' ? listed.resourceVersion : '', '101');
  assert.deepEqual(listed.kind === 'ok' ? listed.items.map((item) => (item as { metadata: { uid: string } }).metadata.uid) : [], ['uid-p']);
});

test('a watch delivers events in order; an ERROR event with code 410 ends it as gone', async (t) => {
  const files = await setup(t);
  const api = await tlsApi(t, files);
  const kube = client(t, api.url, files);
  const events: KubeWatchEvent[] = [];
  const watching = kube.watch('/api/v1/pods', { watch: '1', allowWatchBookmarks: 'true', resourceVersion: '100', timeoutSeconds: '30' }, new AbortController().signal, (event) => {
    events.push(event);
  });
  const deadline = Date.now() + 3000;
  while (api.watching('pods') === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  api.putPod(FakeKubeApi.pod({ namespace: 'ns', name: 'a', uid: 'uid-a', nodeName: 'n1' }));
  api.bookmark();
  api.compact();
  assert.deepEqual(await watching, { kind: 'gone' });
  assert.deepEqual(events.map((event) => event.type), ['ADDED', 'BOOKMARK']);
  assert.deepEqual(events[1]?.object, { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '101' } });
});

test('a token the server does not accept is a value: unauthorized, 401', async (t) => {
  const files = await setup(t);
  const api = await tlsApi(t, files);
  api.token = 'another-token';
  const kube = client(t, api.url, files);
  const listed = await kube.list('/api/v1/namespaces', { resourceVersion: '0' }, new AbortController().signal);
  assert.deepEqual(listed, { kind: 'failed', reason: 'unauthorized', status: 401, message: 'Unauthorized' });
});

test('a server certificate the CA file did not sign fails as a connection problem', async (t) => {
  const files = await setup(t);
  const api = await tlsApi(t, files);
  const otherCa = join(files.dir, 'other-ca.crt');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(files.dir, 'other.key'), '-out', otherCa, '-days', '1', '-subj', '/CN=other',
  ], { timeout: 10_000 });
  const kube = client(t, api.url, files, otherCa);
  const listed = await kube.list('/api/v1/pods', { resourceVersion: '0' }, new AbortController().signal);
  assert.equal(listed.kind === 'failed' ? listed.reason : listed.kind, 'connection');
  assert.equal(api.requests.length, 0, 'no request reached the server');
});

test('an abort ends an open watch stream; a closed client answers without a request', async (t) => {
  const files = await setup(t);
  const api = await tlsApi(t, files);
  const kube = client(t, api.url, files);
  const abort = new AbortController();
  const watching = kube.watch('/api/v1/pods', { watch: '1', resourceVersion: '100' }, abort.signal, () => {});
  const deadline = Date.now() + 3000;
  while (api.watching('pods') === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  abort.abort();
  assert.deepEqual(await watching, { kind: 'ended' });
  await kube.close();
  const after = await kube.list('/api/v1/pods', {}, new AbortController().signal);
  assert.deepEqual(after, { kind: 'failed', reason: 'connection', status: undefined, message: 'client closed' });
});
