import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unusedVariables } from '../../../agent/config/unused-variables.ts';

test('a NODETAIL_ variable that names no setting is reported with the nearest one', () => {
  const found = unusedVariables({ NODETAIL_ELASTICSEARCH_URLS: 'http://es:9200', NODETAIL_STATEDIR: '/x', NODETAIL_STATE_DIR: '/y', NODETAIL_GZIP: '' });
  assert.deepEqual(found.unknown, [
    { variable: 'NODETAIL_ELASTICSEARCH_URLS', nearest: 'NODETAIL_ELASTICSEARCH_URL', key: 'elasticsearch_url' },
    { variable: 'NODETAIL_STATEDIR', nearest: 'NODETAIL_STATE_DIR', key: 'state_dir' },
  ]);
  assert.deepEqual(unusedVariables({ NODETAIL_STATE_DIR: '/y', ELASTICSEARCH_URL: 'http://es' }).unknown, []);
});

test('FLUENT_ variables with no effect are listed: no counterpart, shadowed by the canonical name, or URL parts beside a URL', () => {
  const fluentd = {
    FLUENT_ELASTICSEARCH_HOST: 'es', FLUENT_ELASTICSEARCH_PORT: '9200', FLUENT_ELASTICSEARCH_SSL_VERSION: 'TLSv1_2',
    FLUENT_ELASTICSEARCH_LOGSTASH_FORMAT: 'true', FLUENTD_SYSTEMD_CONF: 'disable', FLUENT_ELASTICSEARCH_USER: 'elastic',
    FLUENT_ELASTICSEARCH_PASSWORD: 'pw', ELASTICSEARCH_PASSWORD: 'pw2', FLUENT_ELASTICSEARCH_SSL_VERIFY: 'true',
  };
  // LOGSTASH_FORMAT has an effect (index_mode); SSL_VERSION has no counterpart; PASSWORD is shadowed.
  assert.deepEqual(unusedVariables(fluentd).ignoredFluent, [
    'FLUENTD_SYSTEMD_CONF', 'FLUENT_ELASTICSEARCH_PASSWORD', 'FLUENT_ELASTICSEARCH_SSL_VERSION',
  ]);
  assert.deepEqual(unusedVariables({ ...fluentd, ELASTICSEARCH_URL: 'https://es:9200' }).ignoredFluent, [
    'FLUENTD_SYSTEMD_CONF', 'FLUENT_ELASTICSEARCH_HOST', 'FLUENT_ELASTICSEARCH_PASSWORD', 'FLUENT_ELASTICSEARCH_PORT', 'FLUENT_ELASTICSEARCH_SSL_VERSION',
  ]);
});
