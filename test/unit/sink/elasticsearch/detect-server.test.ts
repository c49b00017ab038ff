import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectServer } from '../../../../agent/sink/elasticsearch/detect-server.ts';

test('Elasticsearch by its header, OpenSearch by version.distribution, anything else unknown', () => {
  const es = JSON.stringify({ version: { number: '8.15.3', build_flavor: 'default' }, tagline: 'You Know, for Search' });
  assert.deepEqual(detectServer({ 'x-elastic-product': 'Elasticsearch' }, es), { flavour: 'elasticsearch', version: '8.15.3', major: 8 });
  assert.deepEqual(detectServer({}, JSON.stringify({ version: { distribution: 'opensearch', number: '2.17.1' } })), { flavour: 'opensearch', version: '2.17.1', major: 2 });
  assert.deepEqual(detectServer({}, es), { flavour: 'unknown', version: '8.15.3', major: 8 });
  assert.equal(detectServer({}, '<html>login</html>'), undefined);
  assert.equal(detectServer({}, '{"ok":true}'), undefined);
  assert.equal(detectServer({}, 'null'), undefined);
});
