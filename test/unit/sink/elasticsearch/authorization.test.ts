import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAuthorization } from '../../../../agent/sink/elasticsearch/authorization.ts';

const none = { apiKey: undefined, bearerTokenFile: undefined, username: undefined, password: undefined };

test('API key, then basic from the settings, then basic from the URL; descriptions never hold the secret', async () => {
  const key = createAuthorization({ ...none, apiKey: 'aWQ6c2VjcmV0', username: 'u', password: 'p' }, undefined);
  assert.equal(await key.header(), 'ApiKey aWQ6c2VjcmV0');
  assert.equal(key.description, 'api key');
  const basic = createAuthorization({ ...none, username: 'elastic', password: 's3cret' }, { username: 'other', password: 'x' });
  assert.equal(await basic.header(), `Basic ${Buffer.from('elastic:s3cret').toString('base64')}`);
  assert.equal(basic.description, 'basic (user elastic)');
  const fromUrl = createAuthorization(none, { username: 'url-user', password: 'url-pass' });
  assert.equal(await fromUrl.header(), `Basic ${Buffer.from('url-user:url-pass').toString('base64')}`);
  assert.equal(await createAuthorization(none, undefined).header(), undefined);
});

test('a bearer token file is re-read after a minute and after the server refused it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nodetail-auth-'));
  try {
    const path = join(dir, 'token');
    await writeFile(path, 'one\n');
    let now = 0;
    const auth = createAuthorization({ ...none, bearerTokenFile: path }, undefined, () => now);
    assert.equal(await auth.header(), 'Bearer one');
    await writeFile(path, 'two');
    now = 59_000;
    assert.equal(await auth.header(), 'Bearer one');
    now = 60_000;
    assert.equal(await auth.header(), 'Bearer two');
    await writeFile(path, 'three');
    auth.refused();
    assert.equal(await auth.header(), 'Bearer three');
    await rm(path);
    auth.refused();
    assert.equal(await auth.header(), 'Bearer three'); // an unreadable file keeps the last token
    assert.equal(auth.description, `bearer token from ${path}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
