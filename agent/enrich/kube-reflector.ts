/**
 * LIST, then WATCH from the list's resource version, for ever: client-go's reflector
 * (k8s.io/client-go/tools/cache/reflector.go) cut down to what nodetail needs.
 * - A 410 Gone (HTTP status or an ERROR event) means the version was compacted: list again.
 * - Any other failure, or a stream the server closed: watch again from the last version seen
 *   (events and bookmarks move it forward), after a capped exponential backoff with jitter.
 * - Every restart is reported to the observer with a bounded reason.
 * Nothing here throws: an unreachable API is retried until `close()`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Log } from '../core/log.ts';
import type { PipelineObserver } from '../core/observer.ts';
import type { KubeClient, KubeFailure, KubeWatchEventType } from './kube-client.ts';
import { kubeJson } from './kube-json.ts';

export interface KubeReflectorHandlers {
  /** The full set after a LIST: objects missing from it are gone. */
  replace(items: readonly unknown[]): void;
  apply(type: Exclude<KubeWatchEventType, 'BOOKMARK'>, object: unknown): void;
}

export interface KubeRetry {
  readonly initialMs: number;
  readonly maxMs: number;
}

export interface KubeReflectorOptions {
  readonly client: KubeClient;
  /** For logs: `pods`, `namespaces`. */
  readonly resource: string;
  /** `/api/v1/pods` */
  readonly path: string;
  /** Added to both the LIST and the WATCH (a fieldSelector, say). */
  readonly query: Readonly<Record<string, string>>;
  readonly handlers: KubeReflectorHandlers;
  readonly log: Log;
  readonly observer: PipelineObserver;
  readonly retry: KubeRetry;
  /** [0, 1): the jitter source, and the spread of watch timeouts. */
  readonly random: () => number;
}

export interface KubeReflector {
  /** Runs in the background until `close()`. */
  start(): void;
  /** True once a LIST has succeeded. */
  synced(): boolean;
  close(): Promise<void>;
}

/** client-go asks the server to end each watch after 5 to 10 minutes, so connections are renewed. */
const MIN_WATCH_TIMEOUT_SECONDS = 300;

export function createKubeReflector(options: KubeReflectorOptions): KubeReflector {
  const { client, resource, path, query, handlers, log, observer, retry, random } = options;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  let listed = false;
  /** Undefined: list next. */
  let version: string | undefined;
  /** Failures in a row: the backoff exponent. */
  let failures = 0;
  /** The last failure logged, so a long outage is logged when it starts and when it ends. */
  let lastProblem: string | undefined;

  function backoffMs(): number {
    const ceiling = Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(failures, 30));
    // "Equal jitter": at least half the delay, so retries of many agents never line up.
    return ceiling / 2 + (random() * ceiling) / 2;
  }

  function problem(stage: 'list' | 'watch', failure: KubeFailure): string {
    if (failure.kind === 'gone') {
      log.debug({ resource, stage }, `kubernetes: ${resource} resource version expired (410); listing again`);
      return 'gone';
    }
    const fields = { resource, stage, reason: failure.reason, status: failure.status, message: failure.message, failures };
    const text = `${stage}:${failure.reason}:${failure.status ?? ''}`;
    if (text !== lastProblem) {
      log.warn(fields, failure.reason === 'forbidden'
        ? `kubernetes: ${stage} of ${resource} forbidden: the service account needs get, list and watch on ${resource}; retrying with backoff`
        : `kubernetes: ${stage} of ${resource} failed; retrying with backoff`);
    } else {
      log.debug(fields, `kubernetes: ${stage} of ${resource} failed again`);
    }
    lastProblem = text;
    return failure.reason;
  }

  function recovered(): void {
    failures = 0;
    if (lastProblem !== undefined) log.info({ resource }, `kubernetes: ${resource} watch recovered`);
    lastProblem = undefined;
  }

  async function list(): Promise<string | undefined> {
    // resourceVersion=0 lets the API server answer from its watch cache instead of etcd, as
    // client-go's reflector does: the list every node agent sends at once must stay cheap.
    const result = await client.list(path, { ...query, resourceVersion: '0' }, abort.signal);
    if (abort.signal.aborted) return undefined;
    if (result.kind !== 'ok') return problem('list', result);
    handlers.replace(result.items);
    version = result.resourceVersion;
    if (!listed) log.info({ resource, count: result.items.length }, `kubernetes: ${resource} listed`);
    listed = true;
    recovered();
    return undefined;
  }

  async function watch(from: string): Promise<string | undefined> {
    const timeoutSeconds = Math.floor(MIN_WATCH_TIMEOUT_SECONDS * (1 + random()));
    const watchQuery = { ...query, watch: '1', allowWatchBookmarks: 'true', resourceVersion: from, timeoutSeconds: String(timeoutSeconds) };
    let events = 0;
    const end = await client.watch(path, watchQuery, abort.signal, (event) => {
      const next = kubeJson.resourceVersion(event.object);
      if (event.type !== 'BOOKMARK') handlers.apply(event.type, event.object);
      if (next !== undefined) version = next;
      if (events++ === 0) recovered();
    });
    if (abort.signal.aborted) return undefined;
    if (end.kind === 'ended') return 'ended';
    if (end.kind === 'gone') version = undefined;
    return problem('watch', end);
  }

  async function run(): Promise<void> {
    while (!abort.signal.aborted) {
      const from = version;
      const reason = from === undefined ? await list() : await watch(from);
      if (reason === undefined) continue;
      if (abort.signal.aborted) return;
      observer.kubernetesWatchRestart(reason);
      // A 410 (the normal path after a long outage) or a stream the server ended on time starts
      // again after a short pause; a failure backs off further each time.
      if (reason !== 'ended' && reason !== 'gone') failures++;
      try {
        await sleep(backoffMs(), undefined, { signal: abort.signal, ref: false });
      } catch {
        return; // aborted by close()
      }
    }
  }

  return {
    start() {
      running ??= run().catch((error: unknown) => {
        // A handler bug must not become an unhandled rejection; the cache stays as it was.
        log.error({ resource, error: error instanceof Error ? error.message : String(error) }, 'kubernetes: watch loop stopped');
      });
    },
    synced: () => listed,
    async close() {
      abort.abort();
      await running;
    },
  };
}
