/**
 * The pods of this node and the labels of every namespace, indexed for synchronous lookups.
 * Fed by the LIST + WATCH handlers; no I/O here.
 *
 * `PodInfo` objects are frozen and never changed: an update that changes what a record would
 * carry replaces the object and bumps `generation()`, so a per-file cache can keep the object
 * it got and compare generations (or identities) to know when to look again.
 */
import type { Log } from '../core/log.ts';
import type { PathMetadata } from '../core/record.ts';
import type { PodInfo } from '../core/pod-metadata.ts';
import { kubeJson } from './kube-json.ts';
import { podInfoFromObject } from './pod-info-from-object.ts';
import type { PodFromObject } from './pod-info-from-object.ts';

export interface PodIndexOptions {
  /** How long a deleted pod stays findable, for the lines its files still hold. */
  readonly deletedPodTtlMs: number;
  /** Most pods held, live and deleted; the oldest deleted go first. */
  readonly maxPods: number;
  readonly log: Log;
  readonly now: () => number;
}

export interface PodIndex {
  lookup(meta: PathMetadata): PodInfo | undefined;
  generation(): number;
  size(): number;
  replacePods(objects: readonly unknown[]): void;
  applyPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: unknown): void;
  replaceNamespaces(objects: readonly unknown[]): void;
  applyNamespace(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: unknown): void;
  /** Lets go of deleted pods older than the TTL. */
  sweep(): void;
}

interface Entry {
  pod: PodFromObject;
  /** `now()` when the pod was deleted (or missing from a relist); undefined while it lives. */
  deletedAt: number | undefined;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export function createPodIndex(options: PodIndexOptions): PodIndex {
  const { deletedPodTtlMs, maxPods, log, now } = options;
  const byUid = new Map<string, Entry>();
  /** `<namespace>/<name>` → uid: the newest pod of that name (a StatefulSet reuses names). */
  const byName = new Map<string, string>();
  /** Container ids and static pods' config hashes → uid. */
  const byAlias = new Map<string, string>();
  /** Deleted pods in the order they were deleted: with one TTL, also the order they expire. */
  const deleted = new Map<string, number>();
  const namespaceLabels = new Map<string, Readonly<Record<string, string>>>();
  let generation = 0;
  let overflowLogged = false;

  function aliasesOf(pod: PodFromObject): string[] {
    return pod.mirrorHash === undefined ? [...pod.containerIds] : [...pod.containerIds, pod.mirrorHash];
  }

  function unindex(uid: string, entry: Entry): void {
    byUid.delete(uid);
    deleted.delete(uid);
    const key = `${entry.pod.info.namespace}/${entry.pod.info.name}`;
    if (byName.get(key) === uid) byName.delete(key);
    for (const alias of aliasesOf(entry.pod)) if (byAlias.get(alias) === uid) byAlias.delete(alias);
    generation++;
  }

  /** Room for one more pod: false when every held pod is alive and the bound is reached. */
  function makeRoom(): boolean {
    while (byUid.size >= maxPods) {
      const oldest = deleted.keys().next();
      if (oldest.done === true) {
        if (!overflowLogged) log.warn({ maxPods }, 'kubernetes: pod cache full of live pods; new pods get no metadata (raise max pods)');
        overflowLogged = true;
        return false;
      }
      const entry = byUid.get(oldest.value);
      if (entry === undefined) deleted.delete(oldest.value);
      else unindex(oldest.value, entry);
    }
    return true;
  }

  function upsert(object: unknown, deletedAt: number | undefined): void {
    const uid = kubeJson.string(kubeJson.object(object, 'metadata'), 'uid');
    if (uid === undefined) return;
    const existing = byUid.get(uid);
    if (existing === undefined && !makeRoom()) return;
    const namespace = kubeJson.string(kubeJson.object(object, 'metadata'), 'namespace') ?? '';
    const pod = podInfoFromObject(object, namespaceLabels.get(namespace) ?? NO_LABELS);
    if (pod === undefined) return;
    const entry: Entry = { pod, deletedAt };
    if (existing === undefined) {
      byUid.set(uid, entry);
      generation++;
    } else {
      for (const alias of aliasesOf(existing.pod)) if (byAlias.get(alias) === uid) byAlias.delete(alias);
      // Status-only updates (readiness, restarts without a new id) arrive often: keep the same
      // object and generation when nothing a record carries has changed.
      if (sameInfo(existing.pod.info, pod.info)) entry.pod = { ...pod, info: existing.pod.info };
      else generation++;
      byUid.set(uid, entry);
    }
    const nameKey = `${pod.info.namespace}/${pod.info.name}`;
    // A live pod takes the name over; a deleted one keeps it only while no other pod has it.
    const holder = byName.get(nameKey);
    if (deletedAt === undefined || holder === undefined || holder === uid || byUid.get(holder) === undefined) byName.set(nameKey, uid);
    for (const alias of aliasesOf(pod)) byAlias.set(alias, uid);
    if (deletedAt === undefined) {
      deleted.delete(uid);
    } else if (!deleted.has(uid)) {
      deleted.set(uid, deletedAt);
    }
    if (deletedAt !== undefined && deletedPodTtlMs === 0) unindex(uid, entry);
  }

  function markDeleted(uid: string, entry: Entry): void {
    if (entry.deletedAt !== undefined) return;
    entry.deletedAt = now();
    deleted.set(uid, entry.deletedAt);
    if (deletedPodTtlMs === 0) unindex(uid, entry);
  }

  function live(entry: Entry | undefined): PodInfo | undefined {
    if (entry === undefined) return undefined;
    if (entry.deletedAt !== undefined && now() - entry.deletedAt >= deletedPodTtlMs) return undefined;
    return entry.pod.info;
  }

  function setNamespace(name: string, labels: Readonly<Record<string, string>>): void {
    const before = namespaceLabels.get(name) ?? NO_LABELS;
    if (labels === NO_LABELS) namespaceLabels.delete(name);
    else namespaceLabels.set(name, labels);
    if (sameLabels(before, labels)) return;
    for (const entry of byUid.values()) {
      if (entry.pod.info.namespace !== name) continue;
      entry.pod = { ...entry.pod, info: Object.freeze({ ...entry.pod.info, namespaceLabels: labels }) };
    }
    generation++;
  }

  return {
    lookup(meta) {
      if (meta.podUid !== undefined) {
        const entry = byUid.get(meta.podUid);
        if (entry !== undefined) return live(entry);
        // A static pod's folder names its config hash: its mirror pod matches only with the
        // namespace and name of the folder too, so no other pod can take its metadata or exclusion.
        const mirror = byUid.get(byAlias.get(meta.podUid) ?? '');
        return mirror?.pod.info.namespace === meta.namespace && mirror?.pod.info.name === meta.pod ? live(mirror) : undefined;
      }
      if (meta.namespace !== undefined && meta.pod !== undefined) {
        return live(byUid.get(byName.get(`${meta.namespace}/${meta.pod}`) ?? ''));
      }
      if (meta.containerId !== undefined) return live(byUid.get(byAlias.get(meta.containerId) ?? ''));
      return undefined;
    },

    generation: () => generation,

    size: () => byUid.size,

    replacePods(objects) {
      const listed = new Set<string>();
      for (const object of objects) {
        const uid = kubeJson.string(kubeJson.object(object, 'metadata'), 'uid');
        if (uid !== undefined) listed.add(uid);
        upsert(object, undefined);
      }
      // Pods deleted while the watch was down: kept for their late lines like any other.
      for (const [uid, entry] of [...byUid]) if (!listed.has(uid)) markDeleted(uid, entry);
    },

    applyPod(type, object) {
      if (type !== 'DELETED') {
        upsert(object, undefined);
        return;
      }
      const uid = kubeJson.string(kubeJson.object(object, 'metadata'), 'uid');
      const entry = uid === undefined ? undefined : byUid.get(uid);
      // The last state the pod had is the best description of its last lines.
      upsert(object, entry?.deletedAt ?? now());
    },

    replaceNamespaces(objects) {
      const listed = new Map<string, Readonly<Record<string, string>>>();
      for (const object of objects) {
        const name = kubeJson.string(kubeJson.object(object, 'metadata'), 'name');
        if (name !== undefined) listed.set(name, labelsOf(object));
      }
      for (const name of [...namespaceLabels.keys()]) if (!listed.has(name)) setNamespace(name, NO_LABELS);
      for (const [name, labels] of listed) setNamespace(name, labels);
    },

    applyNamespace(type, object) {
      const name = kubeJson.string(kubeJson.object(object, 'metadata'), 'name');
      if (name === undefined) return;
      setNamespace(name, type === 'DELETED' ? NO_LABELS : labelsOf(object));
    },

    sweep() {
      const cutoff = now() - deletedPodTtlMs;
      for (const [uid, deletedAt] of deleted) {
        if (deletedAt > cutoff) break;
        const entry = byUid.get(uid);
        if (entry === undefined) deleted.delete(uid);
        else unindex(uid, entry);
      }
    },
  };
}

function labelsOf(namespace: unknown): Readonly<Record<string, string>> {
  const labels = kubeJson.stringMap(kubeJson.object(namespace, 'metadata'), 'labels');
  return Object.keys(labels).length === 0 ? NO_LABELS : labels;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** Built the same way from the same JSON, equal infos serialise to equal text. */
function sameInfo(a: PodInfo, b: PodInfo): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
