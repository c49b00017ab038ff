import type { PathMetadata } from './record.ts';

/** What the API server knows of a container of a pod. */
export interface ContainerInfo {
  readonly name: string;
  readonly image: string;
  readonly imageId: string | undefined;
  /** Without its `containerd://`, `cri-o://` or `docker://` prefix. */
  readonly containerId: string | undefined;
}

/** A pod as the metadata cache holds it: immutable; a change replaces the whole object. */
export interface PodInfo {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  readonly nodeName: string | undefined;
  readonly podIp: string | undefined;
  /** The controller behind the pod: a Deployment (through its ReplicaSet), DaemonSet, StatefulSet, Job, CronJob... */
  readonly owner: { readonly kind: string; readonly name: string } | undefined;
  readonly containers: readonly ContainerInfo[];
  /** Annotated `nodetail.io/exclude: "true"` or `fluentbit.io/exclude: "true"`. */
  readonly excluded: boolean;
}

/**
 * The pod metadata cache, fed by one node-scoped LIST + WATCH. Lookups are synchronous and
 * never wait on the API: a pod not known yet is `undefined`, and the record ships with its
 * path metadata.
 */
export interface PodMetadataSource {
  /** By uid when the path has one, else by namespace + pod name. */
  lookup(meta: PathMetadata): PodInfo | undefined;
  /** Goes up whenever any pod or namespace changes, so per-file caches know when to look again. */
  generation(): number;
  size(): number;
  /** Begins the LIST + WATCH in the background; resolves at once, never throws for an unreachable API. */
  start(): Promise<void>;
  close(): Promise<void>;
}
