import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConfigError } from '../core/errors.ts';
import type { Log } from '../core/log.ts';

// Not `import { createServer } from 'node:http'`: an ES import of node:http builds its module
// namespace, which reads http's lazy WebSocket getters and so loads Node's own bundled copy of
// undici (~13 MB resident, nodejs/node#59686). The CommonJS module is the same module without it.
const { createServer } = process.getBuiltinModule('node:http');

/**
 * The agent's one HTTP port: `/metrics` (Prometheus text), `/healthz` (liveness: the process
 * answers and the pipeline is not wedged) and `/readyz` (readiness: checkpoints writable, output
 * reachable recently...). Kubernetes probes and Prometheus are the only clients, so the server
 * is small, allows GET and HEAD only, and keeps no idle connection long.
 */

export interface HealthCheck {
  readonly ok: boolean;
  readonly reason?: string;
}

export interface ReadinessCheck {
  readonly ok: boolean;
  readonly reasons: readonly string[];
}

export interface HttpServerOptions {
  readonly port: number;
  readonly address: string;
  readonly metrics: { readonly contentType: string; render(): Promise<string> };
  readonly health: () => HealthCheck;
  readonly ready: () => ReadinessCheck;
  readonly log: Log;
}

export interface RunningHttpServer {
  /** The bound port (the one the OS chose when `port` was 0). */
  readonly port: number;
  /** Stops listening and closes every connection, idle or not. */
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';

/**
 * Probes and a scraper or two are the only clients: more connections than this are closed as
 * they come, so idle connections can never take the descriptors that log files need (with a
 * 256 descriptor limit, 230 idle connections once stopped /healthz and made opens fail EMFILE).
 */
export const MAX_CONNECTIONS = 64;

/**
 * A client must send its request headers within this long (checked every second), and a
 * connection quiet for this long is closed, whether it ever sent anything or not.
 */
export const HEADERS_TIMEOUT_MS = 5_000;

function reply(res: ServerResponse, status: number, body: string, contentType = TEXT): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    // A probe or scrape must see the state now, never a cached answer.
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** Runs a check; a check that throws is a failed check with the error as its reason. */
function attempt<T>(check: () => T, failed: (reason: string) => T): T {
  try {
    return check();
  } catch (error) {
    return failed(`check failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { metrics, health, ready, log } = options;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // Only the path matters: Prometheus may add query parameters, probes do not.
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
      reply(res, 404, 'not found: try /metrics, /healthz or /readyz\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      reply(res, 405, 'method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      const result = attempt<HealthCheck>(health, (reason) => ({ ok: false, reason }));
      if (result.ok) reply(res, 200, 'ok\n');
      else reply(res, 503, `unhealthy: ${result.reason ?? 'no reason given'}\n`);
      return;
    }
    if (path === '/readyz') {
      const result = attempt<ReadinessCheck>(ready, (reason) => ({ ok: false, reasons: [reason] }));
      if (result.ok) reply(res, 200, 'ready\n');
      else reply(res, 503, `not ready:\n${result.reasons.map((reason) => `- ${reason}\n`).join('')}`);
      return;
    }
    metrics.render().then(
      (text) => reply(res, 200, text, metrics.contentType),
      (error: unknown) => {
        log.error({ err: error }, 'rendering /metrics failed');
        if (!res.headersSent) reply(res, 500, 'metrics unavailable\n');
      },
    );
  };

  const server = createServer(
    {
      // Scrapes and probes are small and quick; a client that dawdles is cut off within seconds
      // (Node checks these every connectionsCheckingInterval, 30 s by default).
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: 10_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: 1_000,
    },
    handle,
  );
  server.maxConnections = MAX_CONNECTIONS;
  // Node's own answer to a client error writes a 400 (408 for a timeout) and destroys the socket;
  // for a header timeout that comes with the idle timeout below, it was seen (Node 24) to leave
  // connections open for good, forgotten by the server. This does the same, with the socket always
  // destroyed, and a timed-out client just cut off.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (socket.writable && error.code !== 'ERR_HTTP_REQUEST_TIMEOUT') socket.write('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    socket.destroy();
  });
  // A socket that sends nothing at all is closed too (the header timeout only starts with the
  // first byte), so an idle client never holds a descriptor for long.
  server.setTimeout(HEADERS_TIMEOUT_MS, (socket) => socket.destroy());

  return new Promise((resolve, reject) => {
    // A port already taken (another agent on the host network, say) is a configuration problem: named, not a stack trace.
    const failed = (error: NodeJS.ErrnoException): void => {
      server.close();
      const where = `${options.address}:${options.port}`;
      reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL'
        ? new ConfigError('http_port', `cannot listen on ${where}: ${error.code} (${error.message})`)
        : error);
    };
    server.once('error', failed);
    server.listen(options.port, options.address, () => {
      server.off('error', failed);
      server.on('error', (error) => log.error({ err: error }, 'HTTP server error'));
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
