import pkg from '../package.json' with { type: 'json' };
import { parseCommandLine, USAGE } from './config/command-line.ts';
import { describeSettings } from './config/describe-settings.ts';
import { loadConfig, type Config } from './config/load-config.ts';
import { announceSettings } from './config/announce-settings.ts';
import { ConfigError } from './core/errors.ts';
import type { Observer, PipelineState } from './core/observer.ts';
import type { Sink } from './core/sink.ts';
import { createDocumentEncoder } from './enrich/document-encoder.ts';
import { createPodCache, type PodCache } from './enrich/pod-cache.ts';
import { createPipeline, type Pipeline } from './pipeline.ts';
import { startHttpServer } from './server/http-server.ts';
import { Liveness } from './server/liveness.ts';
import { createElasticsearchSink } from './sink/elasticsearch/elasticsearch-sink.ts';
import { createStdoutSink } from './sink/stdout-sink.ts';
import { createLogger } from './telemetry/logger.ts';
import { createMetrics } from './telemetry/metrics.ts';
import { createRateLimitedLog } from './telemetry/rate-limited-log.ts';

/** How long nothing may move while records wait before /healthz fails (see Liveness). */
const WEDGED_AFTER_MS = 5 * 60_000;

/** How long start-up waits for the first list of this node's pods before reading files. */
const POD_SYNC_WAIT_MS = 5000;

/**
 * Entry point: configuration, self-log, metrics, the pipeline, the HTTP port and signals.
 * `node agent/main.ts [--config FILE] [--check-config]` on Node 24 (`--help`); settings in the README.
 */
async function main(): Promise<void> {
  const cli = parseCommandLine(process.argv.slice(2));
  if (cli.help) {
    process.stdout.write(USAGE);
    return;
  }
  // Loads every module and exits: the image build runs it to fill the compile cache (Dockerfile).
  if (cli.version) {
    process.stdout.write(`nodetail ${pkg.version} (node ${process.version})\n`);
    return;
  }
  let config: Config;
  try {
    config = loadConfig(cli.configArgs, process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`nodetail: ${err.message}\n`);
    process.exit(2);
  }
  if (cli.checkConfig) {
    process.stdout.write(describeSettings(cli.configArgs, process.env, config));
    return;
  }
  const es = config.elasticsearch;
  // Records go to stdout when there is no Elasticsearch: the self-log then goes to stderr.
  const logger = createLogger({ level: config.logLevel, destination: es === undefined ? 'stderr' : 'stdout', secrets: [es?.password, es?.apiKey, ...(es?.urls ?? []).map((u) => decodeURIComponent(u.password))] });

  let pipeline: Pipeline | undefined;
  const state: PipelineState = {
    heldBytes: () => pipeline?.state.heldBytes() ?? 0,
    budgetBytes: () => config.bufferMaxBytes,
    paused: () => pipeline?.state.paused() ?? false,
    backlogBytes: () => pipeline?.state.backlogBytes() ?? 0,
    oldestUnackedSeconds: () => pipeline?.state.oldestUnackedSeconds() ?? 0,
    activeFiles: () => pipeline?.state.activeFiles() ?? 0,
    podCacheSize: () => pods?.size() ?? 0,
  };
  const unsafe = announceSettings(config, process.env, logger);
  const metrics = createMetrics({ version: pkg.version, state, sinkName: es === undefined ? 'stdout' : 'elasticsearch', unsafeSettings: unsafe });
  // Every finished output request, whatever its answer, shows the agent is not wedged (/healthz).
  const liveness = new Liveness(WEDGED_AFTER_MS);
  const observer: Observer = {
    ...metrics.observer,
    request: (seconds, outcome) => {
      liveness.moved();
      metrics.observer.request(seconds, outcome);
    },
  };

  const pods: PodCache | undefined = config.kubernetesMetadata
    ? createPodCache({
        apiUrl: config.kubernetesUrl,
        serviceHost: config.kubernetesServiceHost,
        servicePort: config.kubernetesServicePort,
        tokenFile: config.kubernetesTokenFile,
        caFile: config.kubernetesCaFile,
        nodeName: config.nodeName,
        deletedPodTtlMs: config.kubernetesDeletedPodTtlMs,
        log: logger.child({ component: 'kubernetes' }),
        observer,
      })
    : undefined;
  const documents = createDocumentEncoder({
    schema: config.schema,
    nodeName: config.nodeName,
    dedotKeys: config.dedotKeys,
    pods,
    selfPod: { namespace: config.podNamespace, name: config.podName },
    honorExcludeAnnotations: config.honorExcludeAnnotations,
  });
  const sink: Sink = es === undefined
    ? createStdoutSink(process.stdout, documents.encode, observer, () => stop('stdout closed'))
    : createElasticsearchSink(es, { log: logger.child({ component: 'elasticsearch' }), observer, stateDir: config.stateDir, encodeDocument: documents.encode, schema: config.schema });
  // Problems repeat (a file per container, a retry per second): summarised, never a flood.
  const pipelineLog = createRateLimitedLog(logger, { windowMs: 60_000 });
  pipeline = createPipeline(config, { log: pipelineLog, observer, sink, documents, podCacheSize: () => pods?.size() ?? 0, liveness });

  const running = pipeline;
  const server = await startHttpServer({
    port: config.httpPort,
    address: config.httpAddress,
    metrics,
    health: () => running.health(),
    ready: () => running.ready(),
    log: logger,
  });

  let stopping: Promise<void> | undefined;
  function stop(signal: string): void {
    stopping ??= (async () => {
      logger.info({ signal }, 'stopping: reading stopped, flushing what is in flight');
      const forced = setTimeout(() => {
        logger.error({}, 'shutdown took too long: exiting; unacknowledged records will be read again at the next start');
        logger.flush();
        process.exit(1);
      }, config.shutdownTimeoutMs + 5000);
      forced.unref();
      await running.stop();
      await pods?.close();
      await server.close();
      metrics.close();
      pipelineLog.close();
      logger.info({}, 'stopped: offsets persisted');
      logger.flush();
      process.exit(0);
    })();
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Node's default for SIGHUP is to exit at once (129), offsets unsaved. There is nothing to reload
  // (configuration is read at start): ignored, so a closed terminal or a stray `kill -HUP` is harmless.
  process.on('SIGHUP', () => logger.warn({ signal: 'SIGHUP' }, 'SIGHUP ignored: nothing is reloaded; restart the agent to apply a new configuration'));

  await pods?.start();
  // Read once this node's pods are known (or after a short wait): lines already on disk then get
  // their labels, and those of excluded pods are not shipped. The tail never waits on the API after this.
  if (pods !== undefined && !(await pods.waitForSync(POD_SYNC_WAIT_MS))) logger.warn({ waitedMs: POD_SYNC_WAIT_MS }, 'pod list not received yet: reading anyway; records get pod metadata once it arrives');
  await sink.start();
  await running.start();
  logger.info({
    version: pkg.version,
    node: config.nodeName,
    output: sink.name,
    paths: config.paths,
    stateDir: config.stateDir,
    httpPort: server.port,
    unsafeSettings: unsafe,
  }, 'nodetail started');
}

try {
  await main();
} catch (err) {
  // Configuration that only shows as wrong once used (an unwritable state dir, unreadable TLS files).
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`nodetail: ${err.message}\n`);
  process.exit(2);
}
