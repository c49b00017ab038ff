import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import type { ElasticsearchConfig } from '../../config/load-config.ts';
import { ConfigError, ShutdownError } from '../../core/errors.ts';
import type { Log } from '../../core/log.ts';
import type { OutputObserver } from '../../core/observer.ts';
import type { LogRecord } from '../../core/record.ts';
import type { Batch, Sink } from '../../core/sink.ts';
import { AdaptiveConcurrency } from './adaptive-concurrency.ts';
import { createAuthorization } from './authorization.ts';
import { backoffDelay } from './backoff-delay.ts';
import { deliverItems, type DeliveryContext } from './bulk-delivery.ts';
import { createBulkEncoder } from './bulk-encoder.ts';
import { serverError } from './classify-bulk-response.ts';
import { BulkTransport, type Host, type TlsFiles } from './bulk-transport.ts';
import { DeadLetterFile } from './dead-letter-file.ts';
import { detectServer, type ServerInfo } from './detect-server.ts';
import { createIndexNamer } from './index-namer.ts';
import { indexTemplate, installIndexTemplate } from './index-template.ts';
import { SinkHealth } from './sink-health.ts';

export interface ElasticsearchSinkDeps {
  readonly log: Log;
  readonly observer: OutputObserver;
  readonly stateDir: string;
  /** The document JSON of a record (with `@timestamp`), built by the enrich stage. */
  readonly encodeDocument: (record: LogRecord) => string;
  /** The schema of those documents, for the index template's mappings. */
  readonly schema: 'fluentd' | 'ecs';
  /** For tests: the jitter source. */
  readonly random?: () => number;
}

/** The Elasticsearch sink, plus what the pipeline may want to show (the detected server). */
export interface ElasticsearchSink extends Sink {
  /** What `GET /` said, once a host answered it. */
  server(): ServerInfo | undefined;
}

/**
 * The Elasticsearch / OpenSearch output, cut by request stage as Vector's sink is:
 * encode (`bulk-encoder.ts`, `index-namer.ts`), send (`bulk-transport.ts`, undici), classify
 * (`classify-bulk-response.ts`), retry (`bulk-delivery.ts`), plus start-up detection and the
 * optional index template. Throws ConfigError only for unreadable TLS files; a server that
 * cannot be reached never makes it throw.
 */
export function createElasticsearchSink(config: ElasticsearchConfig, deps: ElasticsearchSinkDeps): ElasticsearchSink {
  const { log, observer } = deps;
  const closing = new AbortController();
  const tls = readTlsFiles(config);
  const hosts: Host[] = config.urls.map((u) => {
    const basePath = u.pathname.replace(/\/+$/, '');
    return { label: u.origin + basePath, origin: u.origin, basePath };
  });
  // Credentials written into the URL become basic auth and leave the URL: hosts are logged.
  const withCredentials = config.urls.find((u) => u.username !== '');
  const auth = createAuthorization(
    config,
    withCredentials === undefined ? undefined : { username: decodeURIComponent(withCredentials.username), password: decodeURIComponent(withCredentials.password) },
  );
  const transport = new BulkTransport({
    hosts,
    tls,
    auth,
    timeoutMs: config.requestTimeoutMs,
    gzip: config.gzip,
    connections: config.concurrency + 1,
    closing: closing.signal,
  });
  const health = new SinkHealth(log, auth.description);
  const deadLetters = new DeadLetterFile(join(deps.stateDir, 'dead-letters.ndjson'), config.deadLetterMaxBytes);
  const limiter = new AdaptiveConcurrency(config.concurrency);
  const random = deps.random ?? Math.random;
  const sleep = async (ms: number): Promise<void> => {
    try {
      await delay(ms, undefined, { signal: closing.signal, ref: false });
    } catch {
      throw new ShutdownError();
    }
  };
  const ctx: DeliveryContext = {
    bulk: (body, failureStore) => transport.bulk(body, failureStore),
    // The failure store came with Elasticsearch 9: on others the answers are not searched for it.
    failureStore: () => server?.flavour === 'elasticsearch' && server.major >= 9,
    serverAnswers: async () => {
      for (const host of hosts) if ((await transport.probe(host)).kind === 'response') return true;
      return false;
    },
    limiter,
    deadLetters,
    health,
    auth,
    observer,
    log,
    retryMaxBackoffMs: config.retryMaxBackoffMs,
    sleep,
    random,
  };
  const encode = createBulkEncoder(
    { deterministicIds: config.deterministicIds },
    createIndexNamer(config),
    deps.encodeDocument,
  );
  let server: ServerInfo | undefined;
  /** The host that answered `GET /`: the template goes there. */
  let detectedOn: Host | undefined;

  /** `GET /` on each host until one answers; true when the server is known. */
  const probe = async (): Promise<boolean> => {
    for (const host of hosts) {
      const reply = await transport.probe(host);
      if (reply.kind === 'failure') {
        health.unreachable(host.label, reply.message, config.retryMaxBackoffMs, true);
        continue;
      }
      if (reply.status === 401 || reply.status === 403) {
        auth.refused();
        let body: unknown;
        try {
          body = JSON.parse(reply.body);
        } catch {
          // not JSON: the status says enough
        }
        const error = serverError(body, reply.status);
        health.unauthorized(host.label, reply.status, error, config.retryMaxBackoffMs);
        return false; // the same credentials go to every host
      }
      const info = reply.status === 200 ? detectServer(reply.headers, reply.body) : undefined;
      if (info === undefined) {
        // A cluster still electing a master answers 503 here; a wrong URL something else. Logged once either way.
        health.unreachable(host.label, `GET / answered ${reply.status}, not as Elasticsearch or OpenSearch do (is the URL right?)`, config.retryMaxBackoffMs, true);
        continue;
      }
      server = info;
      detectedOn = host;
      health.answered(host.label);
      log.info({ host: host.label, flavour: info.flavour, version: info.version, hosts: hosts.length, auth: auth.description }, 'Elasticsearch output: server detected');
      if ((info.flavour === 'elasticsearch' && info.major < 7) || (info.flavour === 'opensearch' && info.major < 1)) {
        log.warn({ flavour: info.flavour, version: info.version }, 'Elasticsearch output: this server version is older than nodetail supports (Elasticsearch 7.17, 8, 9; OpenSearch 2)');
      }
      return true;
    }
    return false;
  };

  const install = async (): Promise<void> => {
    if (!config.installTemplate) return;
    if (server?.flavour !== 'elasticsearch') {
      log.warn({ flavour: server?.flavour }, 'Elasticsearch output: install_template is only done on Elasticsearch; skipped');
      return;
    }
    const template = indexTemplate(config, deps.schema);
    try {
      await installIndexTemplate({ url: (detectedOn ?? (hosts[0] as Host)).label, authorization: await auth.header(), tls, timeoutMs: config.requestTimeoutMs }, template);
      log.info({ template: template.name, patterns: template.index_patterns }, 'Elasticsearch output: index template installed');
    } catch (err) {
      // Delivery does not depend on it: Elasticsearch maps new fields dynamically.
      const e = err as { name?: string; meta?: { statusCode?: number; body?: unknown } };
      const status = e.meta?.statusCode;
      const reason = status === undefined ? undefined : serverError(e.meta?.body, status);
      log.error({ template: template.name, error: e.name ?? 'Error', status, type: reason?.type, reason: reason?.reason }, 'Elasticsearch output: could not install the index template; records are still sent');
    }
  };

  /** After a failed start-up probe, keep probing in the background until a host answers. */
  const probeLater = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      await sleep(backoffDelay(attempt, 500, config.retryMaxBackoffMs, random, Math.min(100, config.retryMaxBackoffMs)));
      if (await probe()) {
        await install();
        return;
      }
    }
  };

  let closed = false;
  return {
    name: 'elasticsearch',
    server: () => server,
    async start() {
      log.info({ hosts: hosts.map((h) => h.label), indexMode: config.indexMode, gzip: config.gzip, concurrency: config.concurrency, auth: auth.description }, 'Elasticsearch output: starting');
      if (config.indexMode === 'data_stream' && config.deterministicIds) {
        // A create conflicts only within the data stream's write index: after a rollover, a replay
        // of records stored before it (a crash or restart before their checkpoint was written)
        // is indexed again. Said once, so that an operator who needs more knows it.
        log.warn({ indexMode: config.indexMode }, 'Elasticsearch output: in data_stream mode a record is indexed once per backing index: a replay after a crash or restart that crosses a rollover can index up to the records not yet checkpointed (buffer_max_bytes, checkpoint_interval_ms) a second time');
      }
      try {
        if (await probe()) await install();
        else probeLater().catch(() => undefined); // ends with ShutdownError at close()
      } catch {
        // only ShutdownError: close() came first
      }
    },
    encode,
    async send(batch: Batch) {
      if (closed) throw new ShutdownError();
      await deliverItems(ctx, batch);
    },
    ready: () => !closed && health.ready(),
    problem: () => health.problem(),
    async close() {
      if (closed) return;
      closed = true;
      closing.abort();
      limiter.close();
      await transport.close();
      await deadLetters.close();
    },
  };
}

/** TLS material, read once at start-up: an unreadable file is a configuration error. */
function readTlsFiles(config: ElasticsearchConfig): TlsFiles {
  const read = (key: string, path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(key, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const ca = read('elasticsearch_ca_file', config.caFile);
  return {
    // Added to the system CAs, not instead of them, as the option's help says.
    ca: ca === undefined ? undefined : [...rootCertificates, ca].join('\n'),
    cert: read('elasticsearch_cert_file', config.certFile),
    key: read('elasticsearch_key_file', config.keyFile),
    rejectUnauthorized: config.tlsVerify,
  };
}
