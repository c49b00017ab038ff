import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pkg from '../../package.json' with { type: 'json' };
import { OPTIONS } from '../../agent/config/options.ts';
import { agentCommand, agentCommandEnv } from '../support/agent-command.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** The agent as a child process, started as package.json's start does, run to its end. */
function run(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...agentCommand().nodeFlags, join(ROOT, 'agent/main.ts'), ...args], {
      cwd: ROOT,
      // No log paths of the machine's, no HTTP port: an agent that started by mistake would fail or be seen.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...agentCommandEnv(), NODETAIL_PATHS: '/nonexistent/*.log', NODETAIL_HTTP_PORT: '0', NODETAIL_HTTP_ADDRESS: '127.0.0.1', ...env },
      timeout: 60_000,
    }, (error, stdout, stderr) => resolve({ code: typeof error?.code === 'number' ? error.code : error === null ? 0 : -1, stdout, stderr }));
  });
}

test('--help prints every option and where the settings are documented, and exits 0 without starting', async () => {
  for (const flag of ['--help', '-h']) {
    const { code, stdout, stderr } = await run([flag]);
    assert.equal(code, 0, stderr);
    for (const option of ['--config FILE', '--check-config', '--version', '--help']) assert.ok(stdout.includes(option), `${flag} does not list ${option}`);
    assert.match(stdout, /README's\n?\s*"?Configuration"? section/);
    assert.equal(stderr, '', 'the agent started (its self-log is on stderr)');
  }
});

test('an unknown option or a stray argument exits 2 naming it, before anything starts', async () => {
  assert.deepEqual(await run(['--frobnicate']), { code: 2, stdout: '', stderr: 'nodetail: configuration: --frobnicate: unknown option (nodetail --help lists the options)\n' });
  assert.deepEqual(await run(['/etc/nodetail.yaml']), { code: 2, stdout: '', stderr: 'nodetail: configuration: /etc/nodetail.yaml: unexpected argument: nodetail takes options only (nodetail --help)\n' });
  assert.deepEqual(await run(['--config']), { code: 2, stdout: '', stderr: 'nodetail: configuration: --config: argument missing (nodetail --help)\n' });
});

test('--version prints the version and exits 0', async () => {
  const { code, stdout } = await run(['--version']);
  assert.equal(code, 0);
  assert.equal(stdout, `nodetail ${pkg.version} (node ${process.version})\n`);
});

test('--check-config prints each setting with where it came from, secrets redacted, and exits 0; a bad one exits 2 naming it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'nodetail.yaml');
  await writeFile(file, 'batch_max_delay_ms: 2s\nlogstash_prefix: from-file\nelasticsearch_api_key: hunter2-file\n');
  const env = { ELASTICSEARCH_URL: 'https://elastic:hunter2-url@es.example:9200', FLUENT_ELASTICSEARCH_PASSWORD: 'hunter2-env', NODETAIL_LOGSTASH_PREFIX: 'from-env', NODE_NAME: 'node-a' };
  for (const args of [['--config', file, '--check-config'], [`--config=${file}`, '--check-config']]) {
    const { code, stdout, stderr } = await run(args, env);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const rows = new Map(stdout.split('\n').slice(3).filter((l) => l !== '').map((l) => {
      const [key, value, ...from] = l.split(/\s{2,}/);
      return [key, { value, from: from.join(' ') }];
    }));
    assert.equal(stdout.split('\n')[0], 'configuration is valid; output: elasticsearch https://elastic:<redacted>@es.example:9200/');
    assert.deepEqual(rows.get('batch_max_delay_ms'), { value: '2s', from: `file ${file}` });
    assert.deepEqual(rows.get('logstash_prefix'), { value: 'from-env', from: 'env NODETAIL_LOGSTASH_PREFIX' }, 'the environment wins over the file');
    assert.deepEqual(rows.get('elasticsearch_password'), { value: '<redacted>', from: 'env FLUENT_ELASTICSEARCH_PASSWORD' });
    assert.deepEqual(rows.get('elasticsearch_api_key'), { value: '<redacted>', from: `file ${file}` });
    assert.deepEqual(rows.get('elasticsearch_url'), { value: 'https://elastic:<redacted>@es.example:9200', from: 'env ELASTICSEARCH_URL' });
    assert.deepEqual(rows.get('read_from'), { value: 'head', from: 'default' });
    assert.deepEqual(rows.get('node_name'), { value: 'node-a', from: 'env NODE_NAME' });
    assert.deepEqual(rows.get('pod_name'), { value: '(unset)', from: '-' });
    assert.deepEqual([...rows.keys()], OPTIONS.map((o) => o.key), 'not every setting is listed');
    assert.doesNotMatch(stdout, /hunter2/, 'a secret was printed');
  }
  const bad = await run(['--check-config'], { NODETAIL_BATCH_MAX_DELAY_MS: 'soon' });
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^nodetail: configuration: batch_max_delay_ms \(NODETAIL_BATCH_MAX_DELAY_MS\): expected a duration/);
});
