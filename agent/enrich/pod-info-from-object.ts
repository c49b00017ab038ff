/**
 * A Pod object from the API server, as the metadata cache holds it: a frozen `PodInfo` plus the
 * keys it is also found by. Every field is read defensively (the object came off the network).
 */
import type { ContainerInfo, PodInfo } from '../core/pod-metadata.ts';
import { kubeJson } from './kube-json.ts';

export interface PodFromObject {
  readonly info: PodInfo;
  /**
   * Container ids the pod's log files may carry: the running ones and, after a restart, the
   * previous ones (`lastState.terminated`), whose files kubelet keeps until they are collected.
   */
  readonly containerIds: readonly string[];
  /**
   * A static pod's log directory holds its config hash instead of the API uid; the mirror pod
   * carries that hash in the `kubernetes.io/config.mirror` annotation. Taken only from a pod
   * owned by a Node, as the kubelet makes mirror pods: any pod author can write the annotation.
   */
  readonly mirrorHash: string | undefined;
}

/** Annotations that keep a pod's logs out of the output (ours, and Fluent Bit's for migrations). */
const EXCLUDE_ANNOTATIONS = ['nodetail.io/exclude', 'fluentbit.io/exclude'];

/**
 * Undefined when the object has no uid, namespace or name (it cannot be indexed).
 * `namespaceLabels` is shared, frozen, by every pod of the namespace.
 */
export function podInfoFromObject(object: unknown, namespaceLabels: Readonly<Record<string, string>>): PodFromObject | undefined {
  const metadata = kubeJson.object(object, 'metadata');
  const uid = kubeJson.string(metadata, 'uid');
  const namespace = kubeJson.string(metadata, 'namespace');
  const name = kubeJson.string(metadata, 'name');
  if (uid === undefined || namespace === undefined || name === undefined) return undefined;
  const spec = kubeJson.object(object, 'spec');
  const status = kubeJson.object(object, 'status');
  const labels = kubeJson.stringMap(metadata, 'labels');
  const annotations = kubeJson.stringMap(metadata, 'annotations');
  const { containers, containerIds } = containersOf(spec, status);
  const info: PodInfo = Object.freeze({
    uid,
    namespace,
    name,
    labels,
    annotations,
    namespaceLabels,
    nodeName: kubeJson.string(spec, 'nodeName'),
    podIp: kubeJson.string(status, 'podIP'),
    owner: ownerOf(kubeJson.objects(metadata, 'ownerReferences'), labels),
    containers,
    excluded: EXCLUDE_ANNOTATIONS.some((key) => annotations[key] === 'true'),
  });
  const ownedByNode = kubeJson.objects(metadata, 'ownerReferences').some((ref) => kubeJson.string(ref, 'kind') === 'Node');
  return { info, containerIds, mirrorHash: ownedByNode ? annotations['kubernetes.io/config.mirror'] : undefined };
}

/** Regular, init and ephemeral containers, each with what its status says (id, image digest). */
function containersOf(
  spec: Record<string, unknown> | undefined,
  status: Record<string, unknown> | undefined,
): { containers: readonly ContainerInfo[]; containerIds: readonly string[] } {
  const statuses = new Map<string, Record<string, unknown>>();
  for (const key of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    for (const entry of kubeJson.objects(status, key)) {
      const name = kubeJson.string(entry, 'name');
      if (name !== undefined) statuses.set(name, entry);
    }
  }
  const containers: ContainerInfo[] = [];
  const containerIds: string[] = [];
  for (const key of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const container of kubeJson.objects(spec, key)) {
      const name = kubeJson.string(container, 'name');
      if (name === undefined) continue;
      const state = statuses.get(name);
      const containerId = withoutRuntime(kubeJson.string(state, 'containerID'));
      const previousId = withoutRuntime(kubeJson.string(kubeJson.object(kubeJson.object(state, 'lastState'), 'terminated'), 'containerID'));
      if (containerId !== undefined) containerIds.push(containerId);
      if (previousId !== undefined && previousId !== containerId) containerIds.push(previousId);
      containers.push(Object.freeze({
        name,
        // The image as the pod spec names it (what the user wrote); the status form once resolved.
        image: kubeJson.string(container, 'image') ?? kubeJson.string(state, 'image') ?? '',
        imageId: kubeJson.string(state, 'imageID'),
        containerId,
      }));
    }
  }
  return { containers: Object.freeze(containers), containerIds: Object.freeze(containerIds) };
}

/** `containerd://abc`, `cri-o://abc`, `docker://abc` → `abc`: the id in the log file names. */
function withoutRuntime(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const bare = id.replace(/^[a-z0-9.+-]+:\/\//i, '');
  return bare === '' ? undefined : bare;
}

/**
 * The ReplicaSet suffix: `rand.SafeEncodeString` of a 32-bit hash (k8s.io/apimachinery
 * pkg/util/rand), at most 10 characters of an alphabet without vowels or 0, 1, 3.
 */
const REPLICASET_SUFFIX = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}$/;

/**
 * A CronJob names its Jobs `<cronjob>-<scheduled time in minutes since the epoch>`
 * (pkg/controller/cronjob/utils.go `getJobName`). Only numbers after 2015 count, so a Job a
 * user named `backup-20240101` stays a Job.
 */
const CRONJOB_SUFFIX = /^(.+)-(\d{8,10})$/;
const MINUTES_2015 = Date.UTC(2015, 0, 1) / 60_000;

function ownerOf(
  references: readonly Record<string, unknown>[],
  labels: Readonly<Record<string, string>>,
): PodInfo['owner'] {
  const reference = references.find((entry) => entry.controller === true) ?? references[0];
  const kind = kubeJson.string(reference, 'kind');
  const name = kubeJson.string(reference, 'name');
  if (kind === undefined || name === undefined) return undefined;
  if (kind === 'ReplicaSet') {
    // The Deployment controller names a ReplicaSet `<deployment>-<pod-template-hash>` and puts
    // the hash on the pod as a label: the surest test. Without the label, the name's shape.
    const hash = labels['pod-template-hash'];
    if (hash !== undefined && name.endsWith(`-${hash}`) && name.length > hash.length + 1) {
      return Object.freeze({ kind: 'Deployment', name: name.slice(0, -hash.length - 1) });
    }
    const match = hash === undefined ? REPLICASET_SUFFIX.exec(name) : null;
    return Object.freeze(match?.[1] === undefined ? { kind, name } : { kind: 'Deployment', name: match[1] });
  }
  if (kind === 'Job') {
    const match = CRONJOB_SUFFIX.exec(name);
    const minutes = Number(match?.[2]);
    if (match?.[1] !== undefined && minutes >= MINUTES_2015) return Object.freeze({ kind: 'CronJob', name: match[1] });
  }
  return Object.freeze({ kind, name });
}
