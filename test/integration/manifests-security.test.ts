import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { NetworkPolicy, type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ResourceQuota, type IResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { findKubectl, IN_CI } from '../support/kubectl.ts';

const MANIFESTS = fileURLToPath(new URL('../../manifests/', import.meta.url));
type Obj = Record<string, unknown> & { kind?: string };

/**
 * `kubectl kustomize` of an overlay of the install plus the given components, as a user would
 * write it; undefined (the test skipped, saying so) without kubectl, except in CI, where it fails.
 */
async function buildOverlay(t: TestContext, components: readonly string[]): Promise<Obj[] | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-overlay-'));
  try {
    await cp(MANIFESTS, join(dir, 'manifests'), { recursive: true });
    await mkdir(join(dir, 'overlay'));
    await writeFile(join(dir, 'overlay', 'kustomization.yaml'), `resources:\n  - ../manifests\ncomponents:\n${components.map((c) => `  - ../manifests/${c}\n`).join('')}`);
    const { stdout } = await promisify(execFile)(findKubectl() ?? 'kubectl', ['kustomize', join(dir, 'overlay')], { timeout: 20_000, maxBuffer: 4 * 1024 * 1024 });
    return parseAllDocuments(stdout).map((d) => d.toJS() as Obj);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || IN_CI) throw err;
    t.skip('kubectl is not installed');
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the optional NetworkPolicy component admits only Prometheus, only on the agents\' http port', async (t) => {
  const built = await buildOverlay(t, ['components/network-policy']);
  if (built === undefined) return;
  const policy = built.find((o) => o.kind === 'NetworkPolicy') as INetworkPolicy | undefined;
  assert.ok(policy !== undefined, 'no NetworkPolicy in the build');
  new NetworkPolicy(policy).validate();
  const ds = built.find((o) => o.kind === 'DaemonSet') as unknown as IDaemonSet;
  assert.equal(policy.metadata?.namespace, ds.metadata?.namespace);
  // It selects the agent pods, and their port named http is the one admitted.
  for (const [k, v] of Object.entries(policy.spec?.podSelector?.matchLabels ?? {})) assert.equal(ds.spec?.template.metadata?.labels?.[k], v, k);
  assert.ok(ds.spec?.template.spec?.containers[0]?.ports?.some((p) => p.name === 'http'));
  assert.deepEqual(policy.spec?.policyTypes, ['Ingress']);
  assert.deepEqual(policy.spec?.ingress?.map((rule) => rule.ports), [[{ port: 'http', protocol: 'TCP' }]]);
  assert.deepEqual(policy.spec?.ingress?.flatMap((rule) => rule.from), [{
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
    podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
  }]);
  // Not part of the main install: applying it is a choice (the install names it in a comment only).
  const active = readFileSync(join(MANIFESTS, 'kustomization.yaml'), 'utf8').split('\n').filter((line) => !line.trimStart().startsWith('#'));
  assert.ok(!active.join('\n').includes('network-policy'));
});

test('the DaemonSet on real nodes: Linux only, DAC_READ_SEARCH as its one capability, and a ResourceQuota that admits its priority class', async (t) => {
  const built = await buildOverlay(t, []);
  if (built === undefined) return;
  const ds = built.find((o) => o.kind === 'DaemonSet') as unknown as IDaemonSet;
  const spec = ds.spec?.template.spec;
  assert.deepEqual(spec?.nodeSelector, { 'kubernetes.io/os': 'linux' });
  // Exactly the set test/integration/capabilities.test.ts runs the agent with.
  assert.deepEqual(spec?.containers[0]?.securityContext?.capabilities, { drop: ['ALL'], add: ['DAC_READ_SEARCH'] });
  assert.equal(spec?.containers[0]?.securityContext?.runAsUser, 0);

  const quota = built.find((o) => o.kind === 'ResourceQuota') as IResourceQuota | undefined;
  assert.ok(quota !== undefined, 'no ResourceQuota in the install');
  new ResourceQuota(quota).validate();
  assert.equal(quota.metadata?.namespace, ds.metadata?.namespace);
  assert.deepEqual(quota.spec?.scopeSelector?.matchExpressions, [{ scopeName: 'PriorityClass', operator: 'In', values: [spec?.priorityClassName] }]);
  assert.ok(Number(quota.spec?.hard?.pods) >= 5000, 'room for one pod per node of a large cluster');
});
