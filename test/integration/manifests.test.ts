/**
 * The Kubernetes manifests, checked offline: every object validates against the Kubernetes
 * OpenAPI schemas (kubernetes-models), and the checks those schemas cannot make hold too
 * (the schemas do not validate unknown fields, names or cross-references).
 * Every check is a function returning its problems; the "breaks" tests feed each one a
 * broken copy to prove it can fail. manifests/components/ is built with kustomize by
 * kustomize-components.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { appendFile, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { DaemonSet, type IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { Secret, type ISecret } from 'kubernetes-models/v1/Secret';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { ClusterRole, type IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding, type IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role, type IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding, type IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { loadConfig, type Config } from '../../agent/config/load-config.ts';
import { OPTIONS } from '../../agent/config/options.ts';
import { agentCommand } from '../support/agent-command.ts';
import { findKubectl, IN_CI } from '../support/kubectl.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'manifests');
const OPERATOR = join(MAIN, 'components', 'prometheus-operator');
const SECRET_FILE = join(MAIN, 'examples', 'elasticsearch-secret.yaml');
const NAMESPACE = 'nodetail';
/** Read-only at the same path inside the pod, because /var/log/containers holds absolute symlinks. */
const LOG_HOST_PATHS = ['/var/log', '/var/lib/docker/containers'];
const STATE_HOST_PATH = '/var/lib/nodetail';

type Obj = Record<string, unknown>;
interface Manifest { readonly file: string; readonly object: Obj }
interface Kustomization {
  readonly namespace?: string;
  readonly resources: readonly string[];
  readonly generators: readonly { readonly name: string; readonly files: readonly string[] }[];
}
interface MonitorLike {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { namespace?: unknown };
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    namespaceSelector?: { matchNames?: unknown };
    podMetricsEndpoints?: { port?: unknown }[];
    endpoints?: { port?: unknown }[];
  };
}

// ---------------------------------------------------------------- loading

function parseYamlFile(path: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  if (!Array.isArray(docs)) return [];
  return docs.map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${path} document ${i}: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path} document ${i} is not a mapping`);
    return value as Obj;
  });
}

function readKustomization(dir: string): Kustomization {
  const [k] = parseYamlFile(join(dir, 'kustomization.yaml'));
  assert.ok(k !== undefined, `${dir}/kustomization.yaml is empty`);
  const generators = (k.configMapGenerator ?? []) as { name: string; files?: string[] }[];
  return {
    ...(typeof k.namespace === 'string' ? { namespace: k.namespace } : {}),
    resources: (k.resources ?? []) as string[],
    // `files` entries may be `key=path`: the path is what must exist.
    generators: generators.map((g) => ({ name: g.name, files: (g.files ?? []).map((f) => f.slice(f.indexOf('=') + 1)) })),
  };
}

function filesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
}

/** What `kubectl apply -k dir` would send, with generated ConfigMaps built as kustomize builds them (before the hash suffix). */
function loadFolder(dir: string): { kustomization: Kustomization; manifests: Manifest[] } {
  const kustomization = readKustomization(dir);
  const manifests: Manifest[] = kustomization.resources.flatMap((file) => parseYamlFile(join(dir, file)).map((object) => ({ file, object })));
  for (const g of kustomization.generators) {
    const data = Object.fromEntries(g.files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    manifests.push({ file: 'kustomization.yaml', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name, namespace: kustomization.namespace }, data } });
  }
  return { kustomization, manifests };
}

function only<T>(manifests: readonly Manifest[], kind: string): T {
  const found = manifests.filter((m) => m.object.kind === kind);
  assert.equal(found.length, 1, `expected exactly one ${kind}, found ${found.length}`);
  return (found[0] as Manifest).object as T;
}

function podContainer(ds: IDaemonSet): IContainer {
  const c = ds.spec?.template.spec?.containers[0];
  assert.ok(c !== undefined, 'the DaemonSet has no container');
  return c;
}

function envValue(c: IContainer, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}

// ---------------------------------------------------------------- checks (each returns its problems)

type Validate = (obj: Obj) => void;
const MODELS: Record<string, Validate> = {
  'v1/Namespace': (o) => new Namespace(o as never).validate(),
  'v1/ServiceAccount': (o) => new ServiceAccount(o as never).validate(),
  'v1/ConfigMap': (o) => new ConfigMap(o as never).validate(),
  'v1/ResourceQuota': (o) => new ResourceQuota(o as never).validate(),
  'v1/Secret': (o) => new Secret(o as never).validate(),
  'v1/Service': (o) => new Service(o as never).validate(),
  'apps/v1/DaemonSet': (o) => new DaemonSet(o as never).validate(),
  'rbac.authorization.k8s.io/v1/ClusterRole': (o) => new ClusterRole(o as never).validate(),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': (o) => new ClusterRoleBinding(o as never).validate(),
  'rbac.authorization.k8s.io/v1/Role': (o) => new Role(o as never).validate(),
  'rbac.authorization.k8s.io/v1/RoleBinding': (o) => new RoleBinding(o as never).validate(),
};
/** Custom resources kubernetes-models has no schema for: checked by monitorProblems. */
const CUSTOM_KINDS = new Set(['monitoring.coreos.com/v1/PodMonitor', 'monitoring.coreos.com/v1/ServiceMonitor']);

function schemaProblems(m: Manifest): string[] {
  const type = `${String(m.object.apiVersion)}/${String(m.object.kind)}`;
  if (CUSTOM_KINDS.has(type)) return [];
  const validate = MODELS[type];
  if (validate === undefined) return [`${m.file}: no schema for ${type}`];
  try {
    validate(m.object);
    return [];
  } catch (err) {
    return [`${m.file}: ${type}: ${(err as Error).message}`];
  }
}

function kustomizationProblems(files: readonly string[], k: Kustomization): string[] {
  const listed = new Set([...k.resources, ...k.generators.flatMap((g) => g.files)]);
  const present = new Set(files.filter((f) => f !== 'kustomization.yaml'));
  return [
    ...[...present].filter((f) => !listed.has(f)).map((f) => `${f} is not listed in kustomization.yaml`),
    ...[...listed].filter((f) => !present.has(f)).map((f) => `${f} is listed in kustomization.yaml but does not exist`),
  ];
}

function namespaceProblems(manifests: readonly Manifest[], k: Kustomization): string[] {
  const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
  const problems = k.namespace === NAMESPACE ? [] : [`kustomization namespace is ${String(k.namespace)}, expected ${NAMESPACE}`];
  for (const { file, object } of manifests) {
    if (clusterScoped.has(String(object.kind))) continue;
    const ns = (object.metadata as { namespace?: unknown } | undefined)?.namespace;
    if (ns !== NAMESPACE) problems.push(`${file}: ${String(object.kind)} is in namespace ${String(ns)}, expected ${NAMESPACE}`);
  }
  if (!manifests.some((m) => m.object.kind === 'Namespace' && (m.object.metadata as { name?: unknown }).name === NAMESPACE)) {
    problems.push(`no Namespace ${NAMESPACE}`);
  }
  return problems;
}

function selectorProblems(ds: IDaemonSet): string[] {
  const want = ds.spec?.selector.matchLabels ?? {};
  const have = ds.spec?.template.metadata?.labels ?? {};
  const problems = Object.keys(want).length === 0 ? ['the selector has no matchLabels'] : [];
  for (const [k, v] of Object.entries(want)) {
    if (have[k] !== v) problems.push(`selector ${k}=${v} does not match the template label ${k}=${String(have[k])}`);
  }
  return problems;
}

function mountProblems(ds: IDaemonSet): string[] {
  const volumes = new Set((ds.spec?.template.spec?.volumes ?? []).map((v) => v.name));
  return (ds.spec?.template.spec?.containers ?? []).flatMap((c) =>
    (c.volumeMounts ?? []).filter((m) => !volumes.has(m.name)).map((m) => `container ${c.name}: volumeMount ${m.name} has no volume`));
}

function probeProblems(ds: IDaemonSet): string[] {
  const problems: string[] = [];
  for (const c of ds.spec?.template.spec?.containers ?? []) {
    const ports = c.ports ?? [];
    const probes: [string, IProbe | undefined, string][] = [['livenessProbe', c.livenessProbe, '/healthz'], ['readinessProbe', c.readinessProbe, '/readyz']];
    for (const [name, probe, path] of probes) {
      const get = probe?.httpGet;
      if (get === undefined) {
        problems.push(`container ${c.name}: ${name} is not an httpGet probe`);
        continue;
      }
      if (get.path !== path) problems.push(`container ${c.name}: ${name} path is ${String(get.path)}, expected ${path}`);
      const found = typeof get.port === 'number' ? ports.some((p) => p.containerPort === get.port) : ports.some((p) => p.name === get.port);
      if (!found) problems.push(`container ${c.name}: ${name} port ${String(get.port)} is not a port of the container`);
    }
  }
  return problems;
}

function downwardApiProblems(ds: IDaemonSet): string[] {
  const c = podContainer(ds);
  const want: [string, string][] = [['NODE_NAME', 'spec.nodeName'], ['POD_NAME', 'metadata.name'], ['POD_NAMESPACE', 'metadata.namespace']];
  return want.flatMap(([name, fieldPath]) => {
    const got = c.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
    return got === fieldPath ? [] : [`${name} comes from ${String(got)}, expected fieldRef ${fieldPath}`];
  });
}

function hostPathProblems(ds: IDaemonSet): string[] {
  const spec = ds.spec?.template.spec;
  const c = podContainer(ds);
  const problems: string[] = [];
  const mountOf = (hostPath: string) => {
    const volume = spec?.volumes?.find((v) => v.hostPath?.path === hostPath);
    return { volume, mount: volume === undefined ? undefined : c.volumeMounts?.find((m) => m.name === volume.name) };
  };
  for (const path of LOG_HOST_PATHS) {
    const { volume, mount } = mountOf(path);
    if (volume === undefined) problems.push(`no hostPath volume for ${path}`);
    else if (mount === undefined) problems.push(`hostPath ${path} is not mounted`);
    else {
      if (mount.mountPath !== path) problems.push(`hostPath ${path} is mounted at ${mount.mountPath}, expected the same path`);
      if (mount.readOnly !== true) problems.push(`hostPath ${path} is not mounted readOnly`);
    }
  }
  const { volume, mount } = mountOf(STATE_HOST_PATH);
  if (volume?.hostPath?.type !== 'DirectoryOrCreate') problems.push(`hostPath ${STATE_HOST_PATH} is not a DirectoryOrCreate volume`);
  if (mount === undefined || mount.readOnly === true) problems.push(`hostPath ${STATE_HOST_PATH} is not mounted read-write`);
  else if (envValue(c, 'NODETAIL_STATE_DIR') !== mount.mountPath) problems.push(`NODETAIL_STATE_DIR is ${String(envValue(c, 'NODETAIL_STATE_DIR'))}, the state volume is mounted at ${mount.mountPath}`);
  return problems;
}

function imageProblems(ds: IDaemonSet, version: string): string[] {
  const image = podContainer(ds).image;
  const want = `ghcr.io/nodetail/nodetail:${version}`;
  return image === want ? [] : [`image is ${String(image)}, expected ${want} (package.json's version)`];
}

/** Every environment variable the pod sets is a name the agent reads (agent/config/options.ts). */
function envNameProblems(ds: IDaemonSet): string[] {
  const known = new Set<string>(OPTIONS.flatMap((o) => o.env));
  return (podContainer(ds).env ?? []).filter((e) => !known.has(e.name)).map((e) => `env ${e.name} is not read by the agent`);
}

/** The `--config` argument points at the ConfigMap's file where the ConfigMap volume is mounted. */
function configMountProblems(ds: IDaemonSet, cm: IConfigMap): string[] {
  const c = podContainer(ds);
  const volume = ds.spec?.template.spec?.volumes?.find((v) => v.configMap !== undefined);
  if (volume === undefined || volume.configMap?.name !== cm.metadata?.name) return [`no volume of ConfigMap ${String(cm.metadata?.name)}`];
  const mount = c.volumeMounts?.find((m) => m.name === volume.name);
  const args = c.args ?? [];
  const at = args.indexOf('--config');
  const file = Object.keys(cm.data ?? {})[0];
  const want = `${String(mount?.mountPath)}/${String(file)}`;
  return at >= 0 && args[at + 1] === want ? [] : [`args are ${JSON.stringify(args)}, expected --config ${want}`];
}

/** The environment the pod gives the agent: literal values, downward-API stand-ins, the Secret's keys. */
function podEnv(ds: IDaemonSet, secret: ISecret | undefined): Record<string, string> {
  const stand = { 'spec.nodeName': 'node-a', 'metadata.name': 'nodetail-x1y2z', 'metadata.namespace': NAMESPACE } as Record<string, string>;
  const env: Record<string, string> = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
  for (const e of podContainer(ds).env ?? []) {
    const field = e.valueFrom?.fieldRef?.fieldPath;
    const key = e.valueFrom?.secretKeyRef?.key;
    const value = e.value ?? (field === undefined ? undefined : stand[field]) ?? (key === undefined ? undefined : secret?.stringData?.[key]);
    if (value !== undefined) env[e.name] = value;
  }
  return env;
}

async function withConfigFile<T>(text: string, use: (path: string) => T): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-manifests-'));
  try {
    const path = join(dir, 'nodetail.yaml');
    await writeFile(path, text);
    return use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function servicePorts(ds: IDaemonSet, svc: IService, config: Config): string[] {
  const problems: string[] = [];
  const labels = ds.spec?.template.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(svc.spec?.selector ?? {})) {
    if (labels[k] !== v) problems.push(`Service selector ${k}=${v} matches no template label`);
  }
  const ports = podContainer(ds).ports ?? [];
  const http = ports.find((p) => p.name === 'http');
  if (http?.containerPort !== config.httpPort) problems.push(`container port http is ${String(http?.containerPort)}, the agent listens on ${config.httpPort}`);
  const sp = svc.spec?.ports?.find((p) => p.name === 'http');
  if (sp === undefined) return [...problems, 'the Service has no port named http'];
  if (sp.port !== config.httpPort) problems.push(`Service port http is ${sp.port}, expected ${config.httpPort}`);
  const target = typeof sp.targetPort === 'number' ? ports.find((p) => p.containerPort === sp.targetPort) : ports.find((p) => p.name === sp.targetPort);
  if (target?.containerPort !== config.httpPort) problems.push(`Service targetPort ${String(sp.targetPort)} is not the agent's port ${config.httpPort}`);
  const a = svc.metadata?.annotations ?? {};
  if (a['prometheus.io/scrape'] !== 'true') problems.push('Service lacks prometheus.io/scrape: "true"');
  if (a['prometheus.io/port'] !== String(config.httpPort)) problems.push(`Service prometheus.io/port is ${String(a['prometheus.io/port'])}, expected ${config.httpPort}`);
  return problems;
}

const ALLOWED_RESOURCES = ['namespaces', 'pods'];
const ALLOWED_VERBS = ['get', 'list', 'watch'];

/** Exactly get/list/watch on core pods and namespaces, bound to the DaemonSet's service account. */
function rbacProblems(role: IClusterRole, binding: IClusterRoleBinding, ds: IDaemonSet): string[] {
  const problems: string[] = [];
  const granted = new Set<string>();
  for (const [i, r] of (role.rules ?? []).entries()) {
    if (JSON.stringify(r.apiGroups) !== '[""]') problems.push(`rule ${i}: apiGroups ${JSON.stringify(r.apiGroups)}, expected [""] only`);
    if (r.nonResourceURLs !== undefined || r.resourceNames !== undefined) problems.push(`rule ${i}: nonResourceURLs/resourceNames not expected`);
    for (const res of r.resources ?? []) {
      if (!ALLOWED_RESOURCES.includes(res)) problems.push(`rule ${i}: resource ${res} is not allowed`);
      for (const verb of r.verbs) {
        if (!ALLOWED_VERBS.includes(verb)) problems.push(`rule ${i}: verb ${verb} is not allowed`);
        granted.add(`${res}:${verb}`);
      }
    }
  }
  for (const res of ALLOWED_RESOURCES) {
    for (const verb of ALLOWED_VERBS) if (!granted.has(`${res}:${verb}`)) problems.push(`${verb} on ${res} is not granted`);
  }
  if (binding.roleRef.kind !== 'ClusterRole' || binding.roleRef.name !== role.metadata?.name) problems.push(`the binding refers to ${binding.roleRef.kind} ${binding.roleRef.name}`);
  const sa = ds.spec?.template.spec?.serviceAccountName;
  const subject = binding.subjects?.[0];
  if (binding.subjects?.length !== 1 || subject?.kind !== 'ServiceAccount' || subject.name !== sa || subject.namespace !== ds.metadata?.namespace) {
    problems.push(`the binding's subjects ${JSON.stringify(binding.subjects)} are not the DaemonSet's service account ${String(sa)}`);
  }
  return problems;
}

/** The example Secret carries exactly the keys the DaemonSet reads, each reference optional. */
function secretProblems(ds: IDaemonSet, secret: ISecret): string[] {
  const problems: string[] = [];
  const refs = (podContainer(ds).env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef === undefined ? [] : [{ env: e.name, ref: e.valueFrom.secretKeyRef }]));
  if (refs.length === 0) problems.push('the DaemonSet reads no Secret');
  for (const { env, ref } of refs) {
    if (ref.optional !== true) problems.push(`${env}: the Secret reference is not optional`);
    if (ref.name !== secret.metadata?.name) problems.push(`${env}: refers to Secret ${ref.name}, the example is ${String(secret.metadata?.name)}`);
  }
  const keys = new Set(refs.map((r) => r.ref.key));
  for (const key of Object.keys(secret.stringData ?? {})) if (!keys.has(key)) problems.push(`the example Secret's key ${key} is not read`);
  return problems;
}

function monitorProblems(monitor: MonitorLike, ds: IDaemonSet): string[] {
  const problems: string[] = [];
  if (monitor.apiVersion !== 'monitoring.coreos.com/v1') problems.push(`apiVersion ${String(monitor.apiVersion)}, expected monitoring.coreos.com/v1`);
  if (monitor.kind !== 'PodMonitor' && monitor.kind !== 'ServiceMonitor') problems.push(`kind ${String(monitor.kind)}, expected PodMonitor or ServiceMonitor`);
  const labels = ds.spec?.template.metadata?.labels ?? {};
  const want = monitor.spec?.selector?.matchLabels ?? {};
  if (Object.keys(want).length === 0) problems.push('the monitor has no selector.matchLabels');
  for (const [k, v] of Object.entries(want)) if (labels[k] !== v) problems.push(`monitor selector ${k}=${v} matches no pod label`);
  const names = monitor.spec?.namespaceSelector?.matchNames;
  if (!Array.isArray(names) || !names.includes(ds.metadata?.namespace)) problems.push(`namespaceSelector ${JSON.stringify(names)} does not include ${String(ds.metadata?.namespace)}`);
  const endpoints = monitor.spec?.podMetricsEndpoints ?? monitor.spec?.endpoints ?? [];
  const ports = new Set((podContainer(ds).ports ?? []).map((p) => p.name));
  if (endpoints.length === 0) problems.push('the monitor has no endpoints');
  for (const e of endpoints) if (!ports.has(e.port as string)) problems.push(`monitor port ${String(e.port)} is not a named container port`);
  return problems;
}

/** The Role kube-prometheus's Prometheus needs to discover targets in our namespace, and its binding. */
function prometheusRoleProblems(role: IRole, binding: IRoleBinding): string[] {
  const problems: string[] = [];
  if (role.metadata?.namespace !== NAMESPACE) problems.push(`the Role is in ${String(role.metadata?.namespace)}, expected ${NAMESPACE}`);
  const pods = (role.rules ?? []).some((r) => r.apiGroups?.includes('') && r.resources?.includes('pods') && ['get', 'list', 'watch'].every((v) => r.verbs.includes(v)));
  if (!pods) problems.push('the Role does not grant get/list/watch on pods');
  const writes = (role.rules ?? []).flatMap((r) => r.verbs).filter((v) => !ALLOWED_VERBS.includes(v));
  if (writes.length > 0) problems.push(`the Role grants ${writes.join(', ')}`);
  if (binding.roleRef.kind !== 'Role' || binding.roleRef.name !== role.metadata?.name) problems.push(`the RoleBinding refers to ${binding.roleRef.kind} ${binding.roleRef.name}`);
  if (binding.metadata?.namespace !== role.metadata?.namespace) problems.push('the RoleBinding is not in the Role\'s namespace');
  if (!(binding.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === 'prometheus-k8s' && s.namespace === 'monitoring')) {
    problems.push('the RoleBinding does not name kube-prometheus\'s service account monitoring/prometheus-k8s');
  }
  return problems;
}

/** `#key: value` lines of the config file: ready-made alternatives, each of which must load on its own. */
function exampleLines(text: string): string[] {
  return text.split('\n').filter((line) => /^#[a-z][a-z0-9_]*:/.test(line)).map((line) => line.slice(1));
}

// ---------------------------------------------------------------- the manifests as they are

function loadAll() {
  const main = loadFolder(MAIN);
  const operator = loadFolder(OPERATOR);
  const [secretObj] = parseYamlFile(SECRET_FILE);
  const ds = only<IDaemonSet>(main.manifests, 'DaemonSet');
  return {
    main,
    operator,
    ds,
    secret: secretObj as unknown as ISecret,
    cm: only<IConfigMap>(main.manifests, 'ConfigMap'),
    svc: only<IService>(main.manifests, 'Service'),
    role: only<IClusterRole>(main.manifests, 'ClusterRole'),
    binding: only<IClusterRoleBinding>(main.manifests, 'ClusterRoleBinding'),
    version: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
  };
}

async function effectiveConfig(m: ReturnType<typeof loadAll>): Promise<Config> {
  const text = m.cm.data?.['nodetail.yaml'];
  assert.ok(text !== undefined, 'the ConfigMap has no nodetail.yaml');
  return withConfigFile(text, (path) => loadConfig(['--config', path], podEnv(m.ds, m.secret)));
}

function broken<T>(obj: T, edit: (copy: T) => void): T {
  const copy = structuredClone(obj);
  edit(copy);
  return copy;
}

test('every manifest validates against the Kubernetes schemas', () => {
  const m = loadAll();
  const all = [...m.main.manifests, ...m.operator.manifests, { file: 'examples/elasticsearch-secret.yaml', object: m.secret as unknown as Obj }];
  assert.deepEqual(all.map((x) => `${String(x.object.kind)}/${String((x.object.metadata as { name: string }).name)}`).sort(), [
    'ClusterRole/nodetail', 'ClusterRoleBinding/nodetail', 'ConfigMap/nodetail-config', 'DaemonSet/nodetail', 'Namespace/nodetail',
    'PodMonitor/nodetail', 'ResourceQuota/nodetail-critical-pods', 'Role/prometheus-k8s', 'RoleBinding/prometheus-k8s', 'Secret/nodetail-elasticsearch', 'Service/nodetail', 'ServiceAccount/nodetail',
  ]);
  assert.deepEqual(all.flatMap(schemaProblems), []);
});

test('each kustomization.yaml lists every file of its folder, and the main one puts everything in the nodetail namespace', () => {
  const m = loadAll();
  assert.deepEqual(kustomizationProblems(filesOf(MAIN), m.main.kustomization), []);
  assert.deepEqual(kustomizationProblems(filesOf(OPERATOR), m.operator.kustomization), []);
  assert.deepEqual(namespaceProblems(m.main.manifests, m.main.kustomization), []);
  // The monitor needs the operator's CRDs and the Secret holds the user's credentials: neither is in the main install.
  assert.ok(!m.main.kustomization.resources.some((r) => r.includes('/')), 'the main kustomization pulls in a subfolder');
});

test('the DaemonSet: selector, mounts, probes, downward API, host paths, image', () => {
  const m = loadAll();
  assert.deepEqual(selectorProblems(m.ds), []);
  assert.deepEqual(mountProblems(m.ds), []);
  assert.deepEqual(probeProblems(m.ds), []);
  assert.deepEqual(downwardApiProblems(m.ds), []);
  assert.deepEqual(hostPathProblems(m.ds), []);
  assert.deepEqual(imageProblems(m.ds, m.version), []);
  assert.deepEqual(envNameProblems(m.ds), []);
  assert.deepEqual(configMountProblems(m.ds, m.cm), []);
});

test('the DaemonSet runs on every node, as uid 0 with nothing else, and shuts down within its grace period', async () => {
  const m = loadAll();
  const spec = m.ds.spec?.template.spec;
  const c = podContainer(m.ds);
  assert.deepEqual(spec?.tolerations, [{ operator: 'Exists' }]);
  assert.equal(spec?.priorityClassName, 'system-node-critical');
  assert.equal(m.ds.spec?.updateStrategy?.type, 'RollingUpdate');
  assert.ok(m.ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable !== undefined);
  const sc = c.securityContext;
  assert.deepEqual(
    { user: sc?.runAsUser, rorfs: sc?.readOnlyRootFilesystem, escalation: sc?.allowPrivilegeEscalation, drop: sc?.capabilities?.drop, add: sc?.capabilities?.add, seccomp: sc?.seccompProfile?.type },
    { user: 0, rorfs: true, escalation: false, drop: ['ALL'], add: ['DAC_READ_SEARCH'], seccomp: 'RuntimeDefault' },
  );
  assert.deepEqual(c.resources, { requests: { cpu: '100m', memory: '192Mi' }, limits: { memory: '512Mi' } });
  const config = await effectiveConfig(m);
  // The flush may take shutdown_timeout_ms; offsets must still be persisted before SIGKILL.
  assert.ok(config.shutdownTimeoutMs + 5000 <= (spec?.terminationGracePeriodSeconds ?? 30) * 1000,
    `shutdown_timeout_ms ${config.shutdownTimeoutMs} leaves under 5 s of terminationGracePeriodSeconds ${String(spec?.terminationGracePeriodSeconds)}`);
});

test('the ConfigMap\'s nodetail.yaml loads with the pod\'s environment, and its commented examples load too', async () => {
  const m = loadAll();
  const config = await effectiveConfig(m);
  assert.equal(config.nodeName, 'node-a');
  assert.equal(config.podName, 'nodetail-x1y2z');
  assert.equal(config.podNamespace, NAMESPACE);
  assert.equal(config.stateDir, STATE_HOST_PATH);
  assert.equal(config.httpPort, 2021);
  assert.equal(config.kubernetesMetadata, true);
  assert.equal(config.schema, 'fluentd');
  assert.equal(config.elasticsearch?.urls.map(String).join(), 'http://elasticsearch.logging.svc:9200/');
  assert.equal(config.elasticsearch?.username, 'nodetail');
  assert.equal(config.elasticsearch?.password, 'change-me');
  const examples = exampleLines(m.cm.data?.['nodetail.yaml'] ?? '');
  assert.ok(examples.length >= 5, `only ${examples.length} commented examples`);
  for (const line of examples) {
    await withConfigFile(line, (path) => assert.doesNotThrow(() => loadConfig(['--config', path], {}), line));
  }
});

test('the Service exposes the agent\'s http_port, named http, with the prometheus.io annotations', async () => {
  const m = loadAll();
  assert.deepEqual(servicePorts(m.ds, m.svc, await effectiveConfig(m)), []);
});

test('RBAC grants get/list/watch on pods and namespaces and nothing more', () => {
  const m = loadAll();
  assert.deepEqual(rbacProblems(m.role, m.binding, m.ds), []);
  const roles = m.main.manifests.filter((x) => ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(String(x.object.kind)));
  assert.equal(roles.length, 2, 'the main install holds one ClusterRole and its binding only');
});

test('the example Secret carries exactly the keys the DaemonSet reads, all optional', () => {
  const m = loadAll();
  assert.deepEqual(secretProblems(m.ds, m.secret), []);
});

test('the PodMonitor selects the agent pods and their http port; Prometheus gets a read-only Role', () => {
  const m = loadAll();
  assert.deepEqual(monitorProblems(only<MonitorLike>(m.operator.manifests, 'PodMonitor'), m.ds), []);
  assert.deepEqual(prometheusRoleProblems(only<IRole>(m.operator.manifests, 'Role'), only<IRoleBinding>(m.operator.manifests, 'RoleBinding')), []);
});

test('the Dockerfile builds on Node 24, installs production dependencies from the lock file, and runs node as PID 1', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const from = [...text.matchAll(/^FROM\s+(?:--platform=\S+\s+)?(\S+)/gm)].map((x) => x[1]);
  assert.deepEqual(from, ['node:24-bookworm-slim', 'gcr.io/distroless/nodejs24-debian12:latest']);
  assert.match(text, /^RUN npm ci --omit=dev /m);
  // The image starts the agent as `npm start` does (one set of flags everywhere), from a compile
  // cache its build filled with its own Node.
  const start = agentCommand();
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(text)?.[1];
  assert.deepEqual(JSON.parse(entrypoint ?? '[]'), ['/nodejs/bin/node', ...start.nodeFlags, 'agent/main.ts']);
  assert.ok(start.nodeFlags.some((f) => f.startsWith('--max-semi-space-size=')), `npm start runs node ${start.nodeFlags.join(' ')}`);
  assert.deepEqual(Object.keys(start.env).sort(), ['MALLOC_ARENA_MAX', 'NODE_COMPILE_CACHE']);
  const cache = /^ENV .*NODE_COMPILE_CACHE=(\S+)/m.exec(text)?.[1];
  assert.equal(cache, '/app/.compile-cache');
  assert.equal(/^ENV .*MALLOC_ARENA_MAX=(\S+)/m.exec(text)?.[1], start.env.MALLOC_ARENA_MAX);
  // Filled with the entrypoint's own flags: Node keys the compile cache by V8 flags.
  const fill = /^RUN (\[.*"--version"\])$/m.exec(text);
  assert.deepEqual(JSON.parse(fill?.[1] ?? '[]'), ['/nodejs/bin/node', ...start.nodeFlags, 'agent/main.ts', '--version']);
  const at = fill?.index ?? -1;
  assert.ok(at > text.indexOf('COPY agent ./agent') && at < text.indexOf('ENTRYPOINT'), 'the cache is filled after the agent is copied, by the final image');
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.deepEqual(ignore, ['*', '!package.json', '!package-lock.json', '!agent']);
});

test('the image\'s build step exits 0 and fills the compile cache that its entrypoint then uses, with every module the agent loads', async () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const image = (re: RegExp): string[] => (JSON.parse(re.exec(text)?.[1] ?? '[]') as string[]).slice(1); // without /nodejs/bin/node
  const build = image(/^RUN (\[.*"--version"\])$/m);
  const entrypoint = image(/^ENTRYPOINT (\[.*\])$/m);
  const cache = await mkdtemp(join(tmpdir(), 'nodetail-compile-cache-'));
  try {
    const run = (args: string[]) => promisify(execFile)(process.execPath, args, { cwd: ROOT, env: { NODE_COMPILE_CACHE: cache } });
    const { stdout } = await run(build);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(stdout, `nodetail ${pkg.version} (node ${process.version})\n`);
    // One entry per compiled module: at least every agent module on the start-up path is there.
    const [dir] = readdirSync(cache);
    const entries = readdirSync(join(cache, dir as string)).length;
    const agentModules = readdirSync(join(ROOT, 'agent'), { recursive: true }).filter((f) => String(f).endsWith('.ts')).length;
    assert.ok(entries >= agentModules * 0.8, `${entries} cache entries for ${agentModules} agent modules`);
    // Node keeps a cache directory per set of V8 flags: the entrypoint must find the build's, not start one of its own.
    await run([...entrypoint, '--version']);
    assert.deepEqual(readdirSync(cache), [dir]);
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
});

const KUBECTL = findKubectl();

/** kubectl's embedded kustomize (found by findKubectl; its absence fails the test in CI, skips it elsewhere). */
async function kustomizeBuild(dir: string): Promise<Obj[] | undefined> {
  if (KUBECTL === undefined) return undefined;
  const { stdout } = await promisify(execFile)(KUBECTL, ['kustomize', dir], { timeout: 20_000, maxBuffer: 4 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Obj);
}

test('kustomize builds the install: the ConfigMap gets a content hash and the DaemonSet follows it', { skip: KUBECTL === undefined && !IN_CI && 'kubectl is not installed' }, async () => {
  const built = await kustomizeBuild(MAIN);
  assert.ok(built !== undefined, 'kubectl is missing in CI (the test looks at $KUBECTL, PATH, /usr/local/bin, /usr/bin, /snap/bin)');
  const m = loadAll();
  assert.deepEqual(built.flatMap((object) => schemaProblems({ file: 'kubectl kustomize manifests/', object })), []);
  const cm = built.find((o) => o.kind === 'ConfigMap') as unknown as IConfigMap;
  const ds = built.find((o) => o.kind === 'DaemonSet') as unknown as IDaemonSet;
  assert.match(String(cm.metadata?.name), /^nodetail-config-[a-z0-9]{10}$/);
  assert.equal(ds.spec?.template.spec?.volumes?.find((v) => v.name === 'config')?.configMap?.name, cm.metadata?.name);
  assert.deepEqual(cm.data, m.cm.data);
  assert.deepEqual(namespaceProblems(built.map((object) => ({ file: 'built', object })), m.main.kustomization), []);
  // Another config means another name, hence another pod template: the rollout on config change.
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-kustomize-'));
  try {
    await cp(MAIN, dir, { recursive: true, filter: (src) => src === MAIN || filesOf(MAIN).some((f) => src === join(MAIN, f)) });
    await appendFile(join(dir, 'nodetail.yaml'), 'log_level: debug\n');
    const rebuilt = (await kustomizeBuild(dir)) ?? [];
    const name = rebuilt.find((o) => o.kind === 'ConfigMap')?.metadata as { name?: string } | undefined;
    const rds = rebuilt.find((o) => o.kind === 'DaemonSet') as unknown as IDaemonSet;
    assert.match(String(name?.name), /^nodetail-config-[a-z0-9]{10}$/);
    assert.notEqual(name?.name, cm.metadata?.name);
    assert.equal(rds.spec?.template.spec?.volumes?.find((v) => v.name === 'config')?.configMap?.name, name?.name);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- each check can fail

test('breaks: every check reports the exact problem of a broken copy', async () => {
  const m = loadAll();
  const ds = m.ds;
  const c0 = (d: IDaemonSet) => podContainer(d);
  const spec = (d: IDaemonSet) => d.spec?.template.spec as NonNullable<NonNullable<IDaemonSet['spec']>['template']['spec']>;

  const badDs = { file: 'daemonset.yaml', object: broken(ds, (d) => { (c0(d).ports?.[0] as { containerPort: unknown }).containerPort = '2021'; }) as unknown as Obj };
  assert.deepEqual(schemaProblems(badDs), ['daemonset.yaml: apps/v1/DaemonSet: data/spec/template/spec/containers/0/ports/0/containerPort must be integer']);
  assert.deepEqual(schemaProblems({ file: 'x.yaml', object: { apiVersion: 'v1', kind: 'Pod' } }), ['x.yaml: no schema for v1/Pod']);

  assert.deepEqual(kustomizationProblems([...filesOf(MAIN), 'extra.yaml'], m.main.kustomization), ['extra.yaml is not listed in kustomization.yaml']);
  assert.deepEqual(kustomizationProblems(filesOf(MAIN).filter((f) => f !== 'service.yaml'), m.main.kustomization), ['service.yaml is listed in kustomization.yaml but does not exist']);
  const strayed = m.main.manifests.map((x) => (x.object.kind === 'Service' ? { ...x, object: { ...x.object, metadata: { name: 'nodetail', namespace: 'default' } } } : x));
  assert.deepEqual(namespaceProblems(strayed, m.main.kustomization), ['service.yaml: Service is in namespace default, expected nodetail']);

  assert.deepEqual(selectorProblems(broken(ds, (d) => { (d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels = { app: 'other' }; })),
    ['selector app=other does not match the template label app=undefined']);
  assert.deepEqual(mountProblems(broken(ds, (d) => { spec(d).volumes = (spec(d).volumes ?? []).filter((v) => v.name !== 'tmp'); })), ['container nodetail: volumeMount tmp has no volume']);
  assert.deepEqual(probeProblems(broken(ds, (d) => { (c0(d).readinessProbe?.httpGet as { port: string }).port = 'metrics'; })),
    ['container nodetail: readinessProbe port metrics is not a port of the container']);
  assert.deepEqual(probeProblems(broken(ds, (d) => { (c0(d).livenessProbe?.httpGet as { path: string }).path = '/'; })),
    ['container nodetail: livenessProbe path is /, expected /healthz']);
  assert.deepEqual(downwardApiProblems(broken(ds, (d) => { (c0(d).env?.[0]?.valueFrom?.fieldRef as { fieldPath: string }).fieldPath = 'status.hostIP'; })),
    ['NODE_NAME comes from status.hostIP, expected fieldRef spec.nodeName']);

  const varlog = (d: IDaemonSet) => c0(d).volumeMounts?.find((x) => x.mountPath === '/var/log') as { readOnly?: boolean; mountPath: string };
  assert.deepEqual(hostPathProblems(broken(ds, (d) => { varlog(d).readOnly = false; })), ['hostPath /var/log is not mounted readOnly']);
  assert.deepEqual(hostPathProblems(broken(ds, (d) => { varlog(d).mountPath = '/host/var/log'; })), ['hostPath /var/log is mounted at /host/var/log, expected the same path']);
  assert.deepEqual(hostPathProblems(broken(ds, (d) => { spec(d).volumes = (spec(d).volumes ?? []).filter((v) => v.name !== 'dockercontainers'); })),
    ['no hostPath volume for /var/lib/docker/containers']);
  assert.deepEqual(hostPathProblems(broken(ds, (d) => { (c0(d).volumeMounts?.find((x) => x.name === 'state') as { readOnly?: boolean }).readOnly = true; })),
    ['hostPath /var/lib/nodetail is not mounted read-write']);

  assert.deepEqual(imageProblems(ds, '9.9.9'), ['image is ghcr.io/nodetail/nodetail:0.1.0, expected ghcr.io/nodetail/nodetail:9.9.9 (package.json\'s version)']);
  assert.deepEqual(envNameProblems(broken(ds, (d) => { c0(d).env?.push({ name: 'ES_PASSWORD', value: 'x' }); })), ['env ES_PASSWORD is not read by the agent']);
  assert.deepEqual(configMountProblems(broken(ds, (d) => { c0(d).args = ['--config', '/etc/nodetail/config.yaml']; }), m.cm),
    ['args are ["--config","/etc/nodetail/config.yaml"], expected --config /etc/nodetail/nodetail.yaml']);

  // A key that is not an option stops the agent: the config test would fail on it.
  await withConfigFile('elasticsearch_hosts: http://es:9200\n', (path) =>
    assert.throws(() => loadConfig(['--config', path], {}), /configuration: elasticsearch_hosts: unknown key/));
  assert.deepEqual(exampleLines('# prose: not an example\n#gzip: true\n'), ['gzip: true']);

  const config = await effectiveConfig(m);
  assert.deepEqual(servicePorts(ds, broken(m.svc, (s) => { (s.spec?.ports?.[0] as { port: number }).port = 8080; }), config), ['Service port http is 8080, expected 2021']);
  assert.deepEqual(servicePorts(ds, m.svc, { ...config, httpPort: 9000 }), [
    'container port http is 2021, the agent listens on 9000', 'Service port http is 2021, expected 9000',
    'Service targetPort http is not the agent\'s port 9000', 'Service prometheus.io/port is 2021, expected 9000',
  ]);

  assert.deepEqual(rbacProblems(broken(m.role, (r) => { r.rules?.[0]?.verbs.push('delete'); }), m.binding, ds),
    ['rule 0: verb delete is not allowed', 'rule 0: verb delete is not allowed']);
  assert.deepEqual(rbacProblems(broken(m.role, (r) => { r.rules?.[0]?.resources?.push('secrets'); }), m.binding, ds),
    ['rule 0: resource secrets is not allowed']);
  assert.deepEqual(rbacProblems(broken(m.role, (r) => { (r.rules?.[0] as { verbs: string[] }).verbs = ['get', 'list']; }), m.binding, ds),
    ['watch on namespaces is not granted', 'watch on pods is not granted']);

  assert.deepEqual(secretProblems(broken(ds, (d) => { const ref = c0(d).env?.find((e) => e.name === 'ELASTICSEARCH_PASSWORD')?.valueFrom?.secretKeyRef; if (ref) delete ref.optional; }), m.secret),
    ['ELASTICSEARCH_PASSWORD: the Secret reference is not optional']);
  assert.deepEqual(secretProblems(ds, broken(m.secret, (s) => { (s.stringData as Record<string, string>).token = 'x'; })), ['the example Secret\'s key token is not read']);

  const monitor = only<MonitorLike>(m.operator.manifests, 'PodMonitor');
  assert.deepEqual(monitorProblems(broken(monitor, (x) => { (x.spec?.podMetricsEndpoints?.[0] as { port: string }).port = 'metrics'; }), ds),
    ['monitor port metrics is not a named container port']);
  assert.deepEqual(monitorProblems(broken(monitor, (x) => { x.apiVersion = 'monitoring.coreos.com/v1beta1'; }), ds),
    ['apiVersion monitoring.coreos.com/v1beta1, expected monitoring.coreos.com/v1']);
  const prole = only<IRole>(m.operator.manifests, 'Role');
  const pbinding = only<IRoleBinding>(m.operator.manifests, 'RoleBinding');
  assert.deepEqual(prometheusRoleProblems(prole, broken(pbinding, (b) => { (b.subjects?.[0] as { namespace: string }).namespace = 'default'; })),
    ['the RoleBinding does not name kube-prometheus\'s service account monitoring/prometheus-k8s']);
});
