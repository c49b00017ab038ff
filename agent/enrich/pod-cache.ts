/**
 * Pod metadata from the API server: one LIST + WATCH of this node's pods
 * (`fieldSelector=spec.nodeName=<node>`) and one cluster-wide LIST + WATCH of namespaces (for
 * their labels), held in a bounded index that lookups read synchronously. The tail never waits
 * on the API: until a pod is known, and while the API is unreachable, lookups answer undefined
 * and records ship with their path metadata.
 */
import type { Log } from '../core/log.ts';
import type { PipelineObserver } from '../core/observer.ts';
import type { PodMetadataSource } from '../core/pod-metadata.ts';
import { kubeApiUrl } from './kube-api-url.ts';
import { createKubeClient } from './kube-client.ts';
import type { KubeClient } from './kube-client.ts';
import { createKubeReflector } from './kube-reflector.ts';
import type { KubeReflector, KubeRetry } from './kube-reflector.ts';
import { createPodIndex } from './pod-index.ts';

export interface PodCacheOptions {
  /** Undefined: in-cluster, from `serviceHost` and `servicePort`. `http://` means no TLS. */
  readonly apiUrl: string | undefined;
  /** `KUBERNETES_SERVICE_HOST` / `KUBERNETES_SERVICE_PORT`, passed in by the config module. */
  readonly serviceHost: string | undefined;
  readonly servicePort: string | undefined;
  readonly tokenFile: string;
  readonly caFile: string;
  readonly nodeName: string;
  readonly deletedPodTtlMs: number;
  /** Default 5,000: far above the pods one node runs (kubelet's default max is 110). */
  readonly maxPods?: number;
  readonly log: Log;
  readonly observer: PipelineObserver;
  /** Backoff between failed attempts; default 500 ms doubling up to 30 s. */
  readonly retry?: KubeRetry;
  /** Jitter source, [0, 1); default Math.random. */
  readonly random?: () => number;
}

/** The source plus what `/readyz` or a test may want to know. */
export interface PodCache extends PodMetadataSource {
  /** True once this node's pods have been listed. */
  synced(): boolean;
  /**
   * Resolves true once this node's pods have been listed, false after `timeoutMs` (or without an
   * API URL). For start-up: reading files already on disk only after the first list means an
   * excluded pod's old lines are not shipped and existing lines get their labels.
   */
  waitForSync(timeoutMs: number): Promise<boolean>;
}

const DEFAULT_MAX_PODS = 5000;
const DEFAULT_RETRY: KubeRetry = { initialMs: 500, maxMs: 30_000 };

export function createPodCache(options: PodCacheOptions): PodCache {
  const { log, observer, nodeName, deletedPodTtlMs } = options;
  const index = createPodIndex({ deletedPodTtlMs, maxPods: options.maxPods ?? DEFAULT_MAX_PODS, log, now: Date.now });
  const retry = options.retry ?? DEFAULT_RETRY;
  const random = options.random ?? Math.random;
  let client: KubeClient | undefined;
  let reflectors: KubeReflector[] = [];
  let sweeper: NodeJS.Timeout | undefined;
  let started = false;
  let markSynced: () => void = () => {};
  const firstList = new Promise<void>((resolve) => {
    markSynced = resolve;
  });

  return {
    lookup: (meta) => index.lookup(meta),
    generation: () => index.generation(),
    size: () => index.size(),
    synced: () => reflectors[0]?.synced() ?? false,

    async waitForSync(timeoutMs) {
      if (reflectors.length === 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
      });
      try {
        return await Promise.race([firstList.then(() => true), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    async start() {
      if (started) return;
      started = true;
      const baseUrl = kubeApiUrl(options.apiUrl, options.serviceHost, options.servicePort);
      if (baseUrl === undefined) {
        log.error({}, 'kubernetes: metadata is on but there is no API server URL (set kubernetes_url, or run in a pod where KUBERNETES_SERVICE_HOST is set); records ship with path metadata only');
        return;
      }
      log.info({ url: baseUrl, nodeName }, 'kubernetes: watching this node\'s pods for metadata');
      client = createKubeClient({ baseUrl, tokenFile: options.tokenFile, caFile: options.caFile, log });
      const common = { client, log, observer, retry, random };
      reflectors = [
        createKubeReflector({
          ...common,
          resource: 'pods',
          path: '/api/v1/pods',
          query: { fieldSelector: `spec.nodeName=${nodeName}` },
          handlers: {
            replace: (items) => {
              index.replacePods(items);
              markSynced();
            },
            apply: index.applyPod,
          },
        }),
        createKubeReflector({
          ...common,
          resource: 'namespaces',
          path: '/api/v1/namespaces',
          query: {},
          handlers: { replace: index.replaceNamespaces, apply: index.applyNamespace },
        }),
      ];
      for (const reflector of reflectors) reflector.start();
      // Deleted pods are also hidden at lookup once their time is up; the sweep frees them.
      sweeper = setInterval(index.sweep, Math.min(10_000, Math.max(100, deletedPodTtlMs / 2)));
      sweeper.unref();
    },

    async close() {
      if (sweeper !== undefined) clearInterval(sweeper);
      sweeper = undefined;
      await Promise.all(reflectors.map((reflector) => reflector.close()));
      await client?.close();
    },
  };
}
