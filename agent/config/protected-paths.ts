import { dirname, resolve } from 'node:path';
import type { Config } from './load-config.ts';

/** Paths never read as logs whatever links or globs lead there: the agent's state, configuration and credentials. */
export function protectedPaths(config: Config): string[] {
  const es = config.elasticsearch;
  const files = [config.kubernetesTokenFile, config.kubernetesCaFile, es?.bearerTokenFile, es?.passwordFile, es?.apiKeyFile, es?.caFile, es?.certFile, es?.keyFile];
  return [
    config.stateDir,
    '/var/run/secrets',
    '/run/secrets',
    // The folder of the config file (its ConfigMap mount), unless that is the root itself.
    ...(config.configFile === undefined ? [] : [dirname(resolve(config.configFile)) === '/' ? config.configFile : dirname(config.configFile)]),
    ...files.filter((f): f is string => f !== undefined && f !== ''),
  ];
}
