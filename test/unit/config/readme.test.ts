import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { optionsTable } from '../../../agent/config/options-table.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('the README\'s configuration table is the options table (regenerate with node agent/config/print-options.ts)', () => {
  const between = /<!-- options:begin -->\n([\s\S]*?)<!-- options:end -->/.exec(readme);
  assert.ok(between, 'options markers missing from README.md');
  assert.equal(between[1], optionsTable() + '\n');
});

test('the README opens with the two commands a newcomer needs: run the agent, run the tests', () => {
  const [, , run, tests] = readme.split('\n');
  assert.match(run ?? '', /^\s+npm ci && npm start\s/);
  assert.match(tests ?? '', /^\s+npm ci && npm test\s/);
});
