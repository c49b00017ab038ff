/**
 * A fake Kubernetes API server over real loopback HTTP, for the pod metadata cache: pods and
 * namespaces with resource versions, LIST (with `fieldSelector=spec.nodeName=...`), WATCH streams
 * (chunked, one JSON event per line, replaying history after the requested version), bookmarks,
 * and the failures a real one shows: a 410 mid-watch or on the watch request, a dropped
 * connection, a bearer token it no longer accepts (401), and being down altogether.
 * Modelled on the fake API server of Fluent Bit's kubernetes filter tests.
 */
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

type Resource = 'pods' | 'namespaces';
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
type KubeObject = Record<string, unknown> & { metadata: Record<string, unknown> };

interface HistoryEvent {
  readonly version: number;
  readonly resource: Resource;
  readonly type: EventType;
  readonly object: KubeObject;
}

interface Watcher {
  readonly resource: Resource;
  readonly nodeName: string | undefined;
  readonly bookmarks: boolean;
  readonly response: ServerResponse;
}

export interface FakeRequest {
  readonly resource: Resource;
  readonly watch: boolean;
  readonly query: URLSearchParams;
  readonly status: number;
}

/** What `FakeKubeApi.pod` builds a Pod object from. */
export interface FakePodSpec {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly nodeName: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly owner?: { readonly kind: string; readonly name: string };
  readonly podIp?: string;
  readonly containers?: readonly FakeContainerSpec[];
  readonly initContainers?: readonly FakeContainerSpec[];
}

export interface FakeContainerSpec {
  readonly name: string;
  readonly image: string;
  /** The status containerID, with its runtime prefix (`containerd://...`). */
  readonly containerId?: string;
  readonly imageId?: string;
}

export class FakeKubeApi {
  /** Bearer token the server accepts; undefined accepts any request. */
  token: string | undefined;
  /** Every request answered, in order. */
  readonly requests: FakeRequest[] = [];
  private server: Server;
  private listeningPort = 0;
  private version = 100;
  private compactedBelow = 0;
  private readonly pods = new Map<string, KubeObject>();
  private readonly namespaces = new Map<string, KubeObject>();
  private readonly history: HistoryEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly goneAnswers = new Map<Resource, number>();

  private readonly tls: { readonly key: string; readonly cert: string } | undefined;

  private constructor(token: string | undefined, tls: { readonly key: string; readonly cert: string } | undefined) {
    this.token = token;
    this.tls = tls;
    this.server = this.makeServer();
  }

  /** Listens on 127.0.0.1 (over TLS with `tls`), on any free port. */
  static async start(options: { token?: string; tls?: { key: string; cert: string } } = {}): Promise<FakeKubeApi> {
    const api = new FakeKubeApi(options.token, options.tls);
    await api.listen(0);
    return api;
  }

  get url(): string {
    return `${this.tls === undefined ? 'http' : 'https'}://127.0.0.1:${this.port}`;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** A Pod object as the API server sends it (the fields nodetail reads, and a few more). */
  static pod(spec: FakePodSpec): KubeObject {
    const containers = spec.containers ?? [{ name: 'main', image: 'example/app:1' }];
    const initContainers = spec.initContainers ?? [];
    const status = (list: readonly FakeContainerSpec[]) => list.map((container) => ({
      name: container.name,
      image: container.image,
      ready: true,
      restartCount: 0,
      ...(container.containerId === undefined ? {} : { containerID: container.containerId }),
      ...(container.imageId === undefined ? {} : { imageID: container.imageId }),
    }));
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace: spec.namespace,
        name: spec.name,
        uid: spec.uid ?? randomUUID(),
        labels: spec.labels ?? {},
        annotations: spec.annotations ?? {},
        ...(spec.owner === undefined ? {} : {
          ownerReferences: [{ apiVersion: 'apps/v1', kind: spec.owner.kind, name: spec.owner.name, uid: randomUUID(), controller: true, blockOwnerDeletion: true }],
        }),
      },
      spec: {
        nodeName: spec.nodeName,
        containers: containers.map(({ name, image }) => ({ name, image })),
        initContainers: initContainers.map(({ name, image }) => ({ name, image })),
      },
      status: {
        phase: 'Running',
        ...(spec.podIp === undefined ? {} : { podIP: spec.podIp }),
        containerStatuses: status(containers),
        initContainerStatuses: status(initContainers),
      },
    };
  }

  static namespace(name: string, labels: Record<string, string> = {}): KubeObject {
    return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: randomUUID(), labels: { 'kubernetes.io/metadata.name': name, ...labels } } };
  }

  /** Adds or replaces (by uid) a pod: an ADDED or MODIFIED event. Returns the stored object. */
  putPod(pod: KubeObject): KubeObject {
    const uid = String(pod.metadata.uid);
    return this.change('pods', this.pods.has(uid) ? 'MODIFIED' : 'ADDED', this.pods, uid, pod);
  }

  deletePod(uid: string): void {
    const pod = this.pods.get(uid);
    if (pod === undefined) throw new Error(`no pod ${uid}`);
    this.change('pods', 'DELETED', this.pods, uid, pod);
  }

  putNamespace(namespace: KubeObject): KubeObject {
    const name = String(namespace.metadata.name);
    return this.change('namespaces', this.namespaces.has(name) ? 'MODIFIED' : 'ADDED', this.namespaces, name, namespace);
  }

  /** Answers the next `count` watch requests of `resource` with HTTP 410 instead of a stream. */
  answerWatchGone(resource: Resource, count = 1): void {
    this.goneAnswers.set(resource, (this.goneAnswers.get(resource) ?? 0) + count);
  }

  /** Sends a BOOKMARK at the current version to every watch that asked for bookmarks. */
  bookmark(): void {
    for (const watcher of this.watchers) {
      if (!watcher.bookmarks) continue;
      const kind = watcher.resource === 'pods' ? 'Pod' : 'Namespace';
      this.send(watcher, { type: 'BOOKMARK', object: { kind, apiVersion: 'v1', metadata: { resourceVersion: String(this.version) } } });
    }
  }

  /**
   * Forgets all history (as etcd compaction does): open watches get an ERROR event with code 410
   * and are closed, and a watch from any older version is answered the same way.
   */
  compact(): void {
    this.compactedBelow = this.version + 1;
    this.history.length = 0;
    for (const watcher of [...this.watchers]) {
      this.send(watcher, { type: 'ERROR', object: gone(this.version) });
      watcher.response.end();
      this.watchers.delete(watcher);
    }
  }

  /** Destroys the connections of every open watch (of one resource), without a proper end of the stream. */
  dropWatches(resource?: Resource): void {
    for (const watcher of [...this.watchers]) {
      if (resource !== undefined && watcher.resource !== resource) continue;
      watcher.response.socket?.destroy();
      this.watchers.delete(watcher);
    }
  }

  /** Open watch streams of a resource: a test waits for its client to be watching. */
  watching(resource: Resource): number {
    return [...this.watchers].filter((watcher) => watcher.resource === resource).length;
  }

  /** Stops listening and cuts every connection, keeping all state: the API is down. */
  async stop(): Promise<void> {
    this.watchers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port after `stop()`. */
  async resume(): Promise<void> {
    this.server = this.makeServer();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.stop();
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listeningPort = (this.server.address() as AddressInfo).port;
  }

  private makeServer(): Server {
    const handler = (request: IncomingMessage, response: ServerResponse) => this.handle(request, response);
    return this.tls === undefined ? createServer(handler) : createTlsServer(this.tls, handler);
  }

  private change(resource: Resource, type: EventType, store: Map<string, KubeObject>, key: string, object: KubeObject): KubeObject {
    this.version++;
    const stored: KubeObject = structuredClone({ ...object, metadata: { ...object.metadata, resourceVersion: String(this.version) } });
    if (type === 'DELETED') store.delete(key);
    else store.set(key, stored);
    const event: HistoryEvent = { version: this.version, resource, type, object: stored };
    this.history.push(event);
    for (const watcher of this.watchers) if (matches(watcher, event)) this.send(watcher, { type, object: stored });
    return stored;
  }

  private send(watcher: Watcher, event: object): void {
    watcher.response.write(`${JSON.stringify(event)}\n`);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://fake');
    const resource = url.pathname === '/api/v1/pods' ? 'pods' : url.pathname === '/api/v1/namespaces' ? 'namespaces' : undefined;
    const watch = url.searchParams.get('watch') === '1' || url.searchParams.get('watch') === 'true';
    const answer = (status: number, body: object): void => {
      if (resource !== undefined) this.requests.push({ resource, watch, query: url.searchParams, status });
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (resource === undefined || request.method !== 'GET') return answer(404, status(404, 'NotFound', 'not found'));
    if (this.token !== undefined && request.headers.authorization !== `Bearer ${this.token}`) {
      return answer(401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    const selector = url.searchParams.get('fieldSelector');
    const nodeMatch = selector === null || selector === '' ? undefined : /^spec\.nodeName=(.+)$/.exec(selector);
    if (nodeMatch === null || (nodeMatch !== undefined && resource !== 'pods')) {
      return answer(400, status(400, 'BadRequest', `unsupported fieldSelector ${selector}`));
    }
    const nodeName = nodeMatch?.[1];
    if (!watch) {
      const store = resource === 'pods' ? this.pods : this.namespaces;
      const items = [...store.values()].filter((object) => nodeName === undefined || nodeOf(object) === nodeName);
      return answer(200, { kind: resource === 'pods' ? 'PodList' : 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: String(this.version) }, items });
    }
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    const goneAnswers = this.goneAnswers.get(resource) ?? 0;
    if (goneAnswers > 0) {
      this.goneAnswers.set(resource, goneAnswers - 1);
      return answer(410, gone(from));
    }
    this.requests.push({ resource, watch, query: url.searchParams, status: 200 });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.flushHeaders();
    const watcher: Watcher = { resource, nodeName, bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true', response };
    if (from !== 0 && from < this.compactedBelow - 1) {
      // As the API server does for a too old version: a 200 stream holding one ERROR event.
      this.send(watcher, { type: 'ERROR', object: gone(from) });
      response.end();
      return;
    }
    for (const event of this.history) {
      if (event.version > from && matches(watcher, event)) this.send(watcher, { type: event.type, object: event.object });
    }
    this.watchers.add(watcher);
    response.on('close', () => this.watchers.delete(watcher));
  }
}

function matches(watcher: Watcher, event: HistoryEvent): boolean {
  return event.resource === watcher.resource && (watcher.nodeName === undefined || nodeOf(event.object) === watcher.nodeName);
}

function nodeOf(object: KubeObject): unknown {
  const spec = object.spec;
  return typeof spec === 'object' && spec !== null ? (spec as Record<string, unknown>).nodeName : undefined;
}

function status(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function gone(version: number): object {
  return status(410, 'Expired', `too old resource version: ${version}`);
}
