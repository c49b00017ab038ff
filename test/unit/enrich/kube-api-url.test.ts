import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeApiUrl } from '../../../agent/enrich/kube-api-url.ts';

test('the configured URL wins, without a trailing slash', () => {
  assert.equal(kubeApiUrl('http://127.0.0.1:8001/', '10.0.0.1', '443'), 'http://127.0.0.1:8001');
});

test('in-cluster: https to the service host and port', () => {
  assert.equal(kubeApiUrl(undefined, '10.96.0.1', '443'), 'https://10.96.0.1:443');
  assert.equal(kubeApiUrl('', '10.96.0.1', '6443'), 'https://10.96.0.1:6443');
});

test('in-cluster: an IPv6 service host is bracketed, once', () => {
  assert.equal(kubeApiUrl(undefined, 'fd00:10:96::1', '443'), 'https://[fd00:10:96::1]:443');
  assert.equal(kubeApiUrl(undefined, '[fd00::1]', '443'), 'https://[fd00::1]:443');
});

test('no URL and no service environment: undefined', () => {
  assert.equal(kubeApiUrl(undefined, undefined, undefined), undefined);
  assert.equal(kubeApiUrl(undefined, '10.96.0.1', undefined), undefined);
  assert.equal(kubeApiUrl(undefined, '', '443'), undefined);
});
