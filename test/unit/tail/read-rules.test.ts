import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWithin, judgeRead, type OpenedPath } from '../../../agent/tail/read-rules.ts';

const rules = { logRoots: ['/var/log/pods', '/var/lib/docker/containers'], protectedPaths: ['/var/lib/nodetail', '/var/run/secrets', '/etc/nodetail'] };
const LINK = '/var/log/containers/web_shop_app-abc.log';
const file = (real: string, more: Partial<OpenedPath> = {}): OpenedPath => ({ matched: LINK, direct: LINK, real, regular: true, pseudo: false, ...more });
const direct = (path: string, more: Partial<OpenedPath> = {}): OpenedPath => ({ matched: path, direct: path, real: path, regular: true, pseudo: false, ...more });

const cases: Array<[string, OpenedPath, ReturnType<typeof judgeRead>]> = [
  ['kubelet link into /var/log/pods', file('/var/log/pods/shop_web_1/app/0.log'), undefined],
  ['docker link into docker\'s folder', file('/var/lib/docker/containers/x/x-json.log'), undefined],
  ['a host log matched directly', direct('/var/log/syslog'), undefined],
  ['a rotated container log matched directly', direct('/var/log/pods/shop_web_1/app/0.log.20260101-000000'), undefined],
  ['link to a secret outside the roots', file('/etc/shadow'), 'outside_log_roots'],
  ['link to a folder that only starts like a root', file('/var/log/pods2/x.log'), 'outside_log_roots'],
  ['link out of the roots through ..', file('/var/log/secret.log'), 'outside_log_roots'],
  ['a host-glob link to another host log', { ...direct('/var/log/evil.log'), real: '/var/log/syslog' }, 'outside_log_roots'],
  ['link to procfs', file('/proc/1/environ', { pseudo: true }), 'special_file'],
  ['link to a FIFO inside the roots', file('/var/log/pods/a/b/0.log', { regular: false }), 'special_file'],
  ['a device matched directly', direct('/var/log/dev.log', { regular: false }), 'special_file'],
  ['link into the state dir', file('/var/lib/nodetail/checkpoints.json'), 'protected_path'],
  ['the service account token', file('/var/run/secrets/kubernetes.io/serviceaccount/token'), 'protected_path'],
  ['the config mount matched directly', direct('/etc/nodetail/nodetail.yaml'), 'protected_path'],
];

for (const [name, opened, expected] of cases) {
  test(`judgeRead: ${name} -> ${expected ?? 'read'}`, () => {
    assert.equal(judgeRead(opened, rules), expected);
  });
}

test('a protected path inside a log root is still refused', () => {
  assert.equal(judgeRead(file('/var/log/pods/nodetail/state.json'), { ...rules, protectedPaths: ['/var/log/pods/nodetail'] }), 'protected_path');
});

test('isWithin compares whole path components', () => {
  assert.equal(isWithin('/var/log/pods', '/var/log/pods'), true);
  assert.equal(isWithin('/var/log/pods/a', '/var/log/pods/'), true);
  assert.equal(isWithin('/var/log/podsx/a', '/var/log/pods'), false);
  assert.equal(isWithin('/var/log', '/var/log/pods'), false);
});
