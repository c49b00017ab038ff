/**
 * The one undici adapter for the Kubernetes API: a LIST and a streaming WATCH, with the service
 * account token read from its file before every request. Projected tokens expire (an hour by
 * default) and kubelet rewrites the file well before that, so a token kept in memory goes stale:
 * https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-token-volume
 *
 * Every answer is a value; nothing here throws for a network or HTTP problem.
 */
import { readFile } from 'node:fs/promises';
import { Pool } from '../core/undici-pool.ts';
import type { Dispatcher } from 'undici';
import type { Log } from '../core/log.ts';
import { kubeJson } from './kube-json.ts';

/** Why a request failed; also the (bounded) reason reported for a watch restart. */
export type KubeFailureReason =
  | 'unauthorized' // 401: the token was not accepted
  | 'forbidden' // 403: RBAC is missing a verb
  | 'http_error' // any other non-2xx answer
  | 'connection' // refused, reset, TLS, timeout
  | 'protocol'; // a body that is not what the API sends

export type KubeFailure =
  | { readonly kind: 'gone' } // 410: the resource version is too old; list again
  | { readonly kind: 'failed'; readonly reason: KubeFailureReason; readonly status: number | undefined; readonly message: string };

export type KubeListResult =
  | { readonly kind: 'ok'; readonly items: readonly unknown[]; readonly resourceVersion: string }
  | KubeFailure;

export type KubeWatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface KubeWatchEvent {
  readonly type: KubeWatchEventType;
  readonly object: unknown;
}

/** How a watch stream stopped: `ended` when the server closed it normally (its timeout) or we aborted it. */
export type KubeWatchEnd = { readonly kind: 'ended' } | KubeFailure;

export interface KubeClient {
  list(path: string, query: Readonly<Record<string, string>>, signal: AbortSignal): Promise<KubeListResult>;
  /** Resolves when the stream ends; `onEvent` is called for each event in order. */
  watch(
    path: string,
    query: Readonly<Record<string, string>>,
    signal: AbortSignal,
    onEvent: (event: KubeWatchEvent) => void,
  ): Promise<KubeWatchEnd>;
  close(): Promise<void>;
}

export interface KubeClientOptions {
  /** `https://host:port`, or `http://...` (no TLS: tests and `kubectl proxy`). */
  readonly baseUrl: string;
  readonly tokenFile: string;
  readonly caFile: string;
  readonly log: Log;
  /** Time to wait for response headers, and between two body chunks of a LIST. */
  readonly requestTimeoutMs?: number;
}

/** A watch line longer than this is not an event the API would send: fail the stream. */
const MAX_WATCH_LINE = 64 * 1024 * 1024;

export function createKubeClient(options: KubeClientOptions): KubeClient {
  const { baseUrl, tokenFile, caFile, log } = options;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  let pool: Pool | undefined;
  let poolPromise: Promise<Pool> | undefined;
  let token: string | undefined;
  let tokenProblem: string | undefined;
  /** A rejected token is logged once per outage, not at every retry. */
  let rejectedLogged = false;
  let closed = false;

  async function dispatcher(): Promise<Pool> {
    if (pool !== undefined) return pool;
    poolPromise ??= (async () => {
      let ca: string | undefined;
      if (baseUrl.startsWith('https:')) {
        try {
          ca = await readFile(caFile, 'utf8');
        } catch (error) {
          log.warn({ caFile, error: errorText(error) }, 'kubernetes: cannot read the API server CA file; using the system CAs');
        }
      }
      // Pods and namespaces each hold a watch open, and a relist may run beside them.
      pool = new Pool(baseUrl, { connections: 4, ...(ca === undefined ? {} : { connect: { ca } }) });
      return pool;
    })();
    return poolPromise;
  }

  /** Read before every request; a failed read keeps the last good token (kubelet swaps the file atomically). */
  async function currentToken(): Promise<string | undefined> {
    try {
      const text = (await readFile(tokenFile, 'utf8')).trim();
      token = text === '' ? token : text;
      if (tokenProblem !== undefined) log.info({ tokenFile }, 'kubernetes: token file readable again');
      tokenProblem = undefined;
    } catch (error) {
      const problem = errorText(error);
      if (problem !== tokenProblem) {
        log.warn({ tokenFile, error: problem }, token === undefined
          ? 'kubernetes: cannot read the service account token file; requests go without a token'
          : 'kubernetes: cannot read the service account token file; using the token read before');
      }
      tokenProblem = problem;
    }
    return token;
  }

  async function send(
    path: string,
    query: Readonly<Record<string, string>>,
    signal: AbortSignal,
    bodyTimeout: number,
  ): Promise<Dispatcher.ResponseData | KubeFailure> {
    const bearer = await currentToken();
    // Checked after the read too: a pool made after close() would never be destroyed.
    if (closed) return failed('connection', undefined, 'client closed');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
    try {
      const response = await (await dispatcher()).request({
        path: `${path}?${new URLSearchParams(query).toString()}`,
        method: 'GET',
        headers,
        signal,
        headersTimeout: requestTimeoutMs,
        bodyTimeout,
      });
      if (response.statusCode >= 200 && response.statusCode < 300) {
        if (rejectedLogged) log.info({ tokenFile }, 'kubernetes: the API server accepts the service account token again');
        rejectedLogged = false;
        return response;
      }
      return await failureOf(response, path);
    } catch (error) {
      return failed('connection', undefined, errorText(error));
    }
  }

  async function failureOf(response: Dispatcher.ResponseData, path: string): Promise<KubeFailure> {
    const status = response.statusCode;
    const message = statusMessage(await response.body.text().catch(() => ''));
    if (status === 410) return { kind: 'gone' };
    if (status === 401) {
      // Never the token itself: only where it came from.
      if (!rejectedLogged) log.warn({ status, path, tokenFile, message }, 'kubernetes: the API server did not accept the service account token; the token file is re-read before the next attempt');
      rejectedLogged = true;
      return failed('unauthorized', status, message);
    }
    if (status === 403) return failed('forbidden', status, message);
    return failed('http_error', status, message);
  }

  return {
    async list(path, query, signal) {
      const response = await send(path, query, signal, requestTimeoutMs * 2);
      if ('kind' in response) return response;
      try {
        const body: unknown = await response.body.json();
        const items = kubeJson.isObject(body) && Array.isArray(body.items) ? body.items : undefined;
        const resourceVersion = kubeJson.resourceVersion(body);
        if (items === undefined || resourceVersion === undefined) return failed('protocol', response.statusCode, 'a LIST answer without items or metadata.resourceVersion');
        return { kind: 'ok', items, resourceVersion };
      } catch (error) {
        return failed(signal.aborted ? 'connection' : 'protocol', response.statusCode, errorText(error));
      }
    },

    async watch(path, query, signal, onEvent) {
      // The server ends a watch after `timeoutSeconds`; a silent stream longer than that plus a
      // margin is a dead connection (bookmarks arrive about every minute on a live one).
      const timeoutSeconds = Number(query.timeoutSeconds ?? '300');
      const response = await send(path, query, signal, (timeoutSeconds + 60) * 1000);
      // Aborted before the headers came: as much an end on our side as an abort mid-stream.
      if ('kind' in response) return signal.aborted ? { kind: 'ended' } : response;
      const decoder = new TextDecoder();
      let pending = '';
      try {
        for await (const chunk of response.body) {
          pending += decoder.decode(chunk as Uint8Array, { stream: true });
          let newline = pending.indexOf('\n');
          while (newline !== -1) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            const end = line.trim() === '' ? undefined : handleLine(line, onEvent);
            if (end !== undefined) {
              response.body.destroy();
              return end;
            }
            newline = pending.indexOf('\n');
          }
          if (pending.length > MAX_WATCH_LINE) {
            response.body.destroy();
            return failed('protocol', 200, 'a watch line longer than 64 MiB');
          }
        }
      } catch (error) {
        if (signal.aborted) return { kind: 'ended' };
        return failed('connection', 200, errorText(error));
      }
      return { kind: 'ended' };
    },

    async close() {
      closed = true;
      const current = pool ?? (poolPromise === undefined ? undefined : await poolPromise);
      // destroy, not close: a watch never finishes on its own.
      await current?.destroy();
    },
  };
}

/** One line of a watch stream; a value when the stream must stop (an ERROR event or a bad line). */
function handleLine(line: string, onEvent: (event: KubeWatchEvent) => void): KubeWatchEnd | undefined {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return failed('protocol', 200, 'a watch line that is not JSON');
  }
  if (!kubeJson.isObject(event)) return failed('protocol', 200, 'a watch line that is not an object');
  const { type, object } = event;
  if (type === 'ERROR') {
    // A Status object: code 410 (reason Expired or Gone) means the resource version was compacted.
    const code = kubeJson.isObject(object) ? object.code : undefined;
    if (code === 410) return { kind: 'gone' };
    return failed('http_error', typeof code === 'number' ? code : undefined, statusMessage(JSON.stringify(object ?? null)));
  }
  if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED' || type === 'BOOKMARK') {
    onEvent({ type, object });
    return undefined;
  }
  return failed('protocol', 200, `a watch event of unknown type ${String(type).slice(0, 40)}`);
}

function failed(reason: KubeFailureReason, status: number | undefined, message: string): KubeFailure {
  return { kind: 'failed', reason, status, message };
}


/** The `message` of a Status body when there is one, cut short: enough for a log line. */
function statusMessage(body: string): string {
  let message = body;
  try {
    const parsed: unknown = JSON.parse(body);
    if (kubeJson.isObject(parsed) && typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: the text itself
  }
  return message.slice(0, 300);
}


function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
