import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../../agent/config/load-config.ts';
import { protectedPaths } from '../../../agent/config/protected-paths.ts';

test('the state dir, the service account, the config folder and every credential file are protected', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-protected-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'nodetail.yaml');
  await writeFile(config, 'log_level: info\n');
  await writeFile(join(dir, 'password'), 'pw\n');
  const paths = protectedPaths(loadConfig(['--config', config], {
    NODETAIL_STATE_DIR: '/var/lib/nodetail',
    ELASTICSEARCH_URL: 'https://es:9200',
    ELASTICSEARCH_USERNAME: 'elastic',
    NODETAIL_ELASTICSEARCH_PASSWORD_FILE: join(dir, 'password'),
    NODETAIL_ELASTICSEARCH_CA_FILE: '/etc/tls/ca.crt',
  }));
  assert.deepEqual(paths, [
    '/var/lib/nodetail', '/var/run/secrets', '/run/secrets', dir,
    '/var/run/secrets/kubernetes.io/serviceaccount/token', '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    join(dir, 'password'), '/etc/tls/ca.crt',
  ]);
});

test('a config file at the root protects itself, not the whole file system', () => {
  const config = { ...loadConfig([], {}), configFile: '/nodetail.yaml' };
  assert.ok(protectedPaths(config).includes('/nodetail.yaml'));
  assert.ok(!protectedPaths(config).includes('/'));
});
