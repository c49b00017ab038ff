/**
 * The optional parts under manifests/components/ (kustomize components), each built by kubectl's
 * own kustomize on top of the base, as a user enables it. kubectl is required in CI: there the
 * build fails instead of skipping when it is missing.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { findKubectl, IN_CI } from '../support/kubectl.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'manifests');
const COMPONENTS = join(MAIN, 'components');
const KUBECTL = findKubectl();
const skip = KUBECTL === undefined && !IN_CI && 'kubectl is not installed';

type Obj = { kind: string; apiVersion: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };

/** `kubectl kustomize` of an overlay of the base with `components`, written where kustomize allows relative paths (inside the repository). */
async function build(components: readonly string[], base = MAIN): Promise<Obj[]> {
  assert.ok(KUBECTL !== undefined, 'kubectl is missing in CI (the test looks at $KUBECTL, PATH, /usr/local/bin, /usr/bin, /snap/bin)');
  await mkdir(join(ROOT, '.scratch'), { recursive: true });
  const dir = await mkdtemp(join(ROOT, '.scratch', 'kustomize-'));
  try {
    const overlay = { resources: [relative(dir, base)], components: components.map((c) => relative(dir, join(COMPONENTS, c))) };
    await writeFile(join(dir, 'kustomization.yaml'), stringify(overlay));
    const { stdout } = await promisify(execFile)(KUBECTL, ['kustomize', dir], { timeout: 30_000, maxBuffer: 8 * 1024 * 1024 });
    return parseAllDocuments(stdout).map((d) => d.toJS() as Obj);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const named = (objects: readonly Obj[]) => objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();

test('every component builds on the base, adds only its own objects, all in the nodetail namespace', { skip }, async () => {
  const base = named(await build([]));
  const folders = readdirSync(COMPONENTS, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  assert.ok(folders.length >= 3);
  for (const folder of folders) {
    const added = named(await build([folder])).filter((n) => !base.includes(n));
    assert.ok(added.length > 0, `${folder} adds nothing`);
    for (const n of added) assert.match(n, /^[A-Za-z]+\/nodetail\//, `${folder}: ${n} is not in the nodetail namespace`);
  }
  // All of them together, as a cluster with Grafana and the Prometheus operator enables them.
  assert.deepEqual(named(await build(folders)).filter((n) => !base.includes(n)), [
    'ConfigMap/nodetail/nodetail-grafana-dashboard', 'NetworkPolicy/nodetail/nodetail-metrics', 'PodMonitor/nodetail/nodetail', 'PrometheusRule/nodetail/nodetail',
    'Role/nodetail/prometheus-k8s', 'RoleBinding/nodetail/prometheus-k8s',
  ]);
});

test('grafana-dashboard: the dashboard, unchanged, in a ConfigMap labelled for Grafana\'s sidecar', { skip }, async () => {
  const cm = (await build(['grafana-dashboard'])).find((o) => o.metadata.name === 'nodetail-grafana-dashboard');
  assert.ok(cm !== undefined);
  assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
  const data = cm.data as Record<string, string>;
  assert.deepEqual(Object.keys(data), ['nodetail.json']);
  assert.equal(data['nodetail.json'], readFileSync(join(COMPONENTS, 'grafana-dashboard/nodetail.json'), 'utf8'));
  assert.equal((JSON.parse(data['nodetail.json'] ?? '') as { title?: string }).title !== undefined, true);
});

test('prometheus-operator: the PodMonitor scrapes the DaemonSet\'s pods on their http port, and the old overlay path still builds it', { skip }, async () => {
  const built = await build(['prometheus-operator']);
  const monitor = built.find((o) => o.kind === 'PodMonitor') as Obj & { spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string }[] } };
  const ds = built.find((o) => o.kind === 'DaemonSet') as Obj & { spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: { ports: { name: string }[] }[] } } } };
  for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(ds.spec.template.metadata.labels[k], v, `the PodMonitor selects ${k}=${v}, which the pods lack`);
  const ports = ds.spec.template.spec.containers.flatMap((c) => c.ports.map((p) => p.name));
  for (const endpoint of monitor.spec.podMetricsEndpoints) assert.ok(ports.includes(endpoint.port), `no container port named ${endpoint.port}`);
  assert.ok(KUBECTL !== undefined);
  const { stdout } = await promisify(execFile)(KUBECTL, ['kustomize', join(MAIN, 'prometheus-operator')], { timeout: 30_000 });
  assert.deepEqual(named(parseAllDocuments(stdout).map((d) => d.toJS() as Obj)), ['PodMonitor/nodetail/nodetail', 'Role/nodetail/prometheus-k8s', 'RoleBinding/nodetail/prometheus-k8s']);
});

/** The README's "Useful queries": a comment line, then the query. */
function readmeQueries(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /Useful queries[^\n]*\n[^\n]*\n\n```promql\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block !== undefined, 'the README has no "Useful queries" block');
  return block.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

test('prometheus-rule: one alert per query the README lists, each expression valid for promtool', { skip }, async (t) => {
  const rule = (await build(['prometheus-rule'])).find((o) => o.kind === 'PrometheusRule') as Obj & { spec: { groups: { name: string; rules: { alert: string; expr: string }[] }[] } };
  assert.ok(rule !== undefined);
  const rules = rule.spec.groups.flatMap((g) => g.rules);
  assert.deepEqual(rules.map((r) => r.expr), readmeQueries());
  for (const r of rules) assert.match(r.alert, /^Nodetail[A-Z][A-Za-z]+$/);
  const promtool = spawnSync('promtool', ['--version']);
  if (promtool.error !== undefined && !IN_CI) {
    t.diagnostic('promtool not installed: expressions not checked');
    return;
  }
  const dir = await mkdtemp(join(ROOT, '.scratch', 'rules-'));
  try {
    await writeFile(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
    const check = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
    assert.match(check.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
