import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../agent/config/load-config.ts';
import { unsafeSettings } from '../../../agent/config/unsafe-settings.ts';

const found = (env: Record<string, string>) => unsafeSettings(loadConfig([], env).elasticsearch).map(({ setting, hosts }) => [setting, hosts]);

test('TLS verification off is found under its own name and Fluentd\'s, naming the https hosts only', () => {
  assert.deepEqual(found({ ELASTICSEARCH_URL: 'https://a:9200,http://b:9200', NODETAIL_ELASTICSEARCH_TLS_VERIFY: 'false' }), [['tls_verify_off', ['https://a:9200']]]);
  assert.deepEqual(found({ ELASTICSEARCH_URL: 'https://a:9200', FLUENT_ELASTICSEARCH_SSL_VERIFY: 'false' }), [['tls_verify_off', ['https://a:9200']]]);
  assert.deepEqual(found({ ELASTICSEARCH_URL: 'http://a:9200', FLUENT_ELASTICSEARCH_SSL_VERIFY: 'false' }), [], 'no TLS, nothing to verify');
  assert.deepEqual(found({ ELASTICSEARCH_URL: 'https://a:9200' }), []);
});

test('credentials of every kind over plain http are found, naming the http hosts without the credentials', () => {
  const http = { ELASTICSEARCH_URL: 'http://a:9200,https://b:9200' };
  const over = [['credentials_over_http', ['http://a:9200']]];
  assert.deepEqual(found({ ...http, ELASTICSEARCH_USERNAME: 'elastic', ELASTICSEARCH_PASSWORD: 'pw' }), over);
  assert.deepEqual(found({ ...http, ELASTICSEARCH_API_KEY: 'a2V5' }), over);
  assert.deepEqual(found({ ...http, NODETAIL_ELASTICSEARCH_BEARER_TOKEN_FILE: '/token' }), over);
  assert.deepEqual(found({ ELASTICSEARCH_URL: 'http://elastic:pw@a:9200' }), over);
  assert.deepEqual(found(http), [], 'no credentials, none to leak');
  assert.deepEqual(found({ ELASTICSEARCH_URL: 'https://a:9200', ELASTICSEARCH_USERNAME: 'elastic' }), []);
  assert.deepEqual(unsafeSettings(undefined), []);
});
