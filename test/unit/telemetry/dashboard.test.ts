import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { createMetrics } from '../../../agent/telemetry/metrics.ts';
import { parseFamilies } from './prometheus-text.ts';

interface Target {
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  repeat?: string;
  datasource?: { uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

const DASHBOARD = new URL('../../../manifests/components/grafana-dashboard/nodetail.json', import.meta.url);

/** PromQL words that look like metric names but are not. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: strings, label matchers, ranges and grouping
 * label lists are removed, then every identifier that is not a function call or a keyword.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of bare.matchAll(/(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = bare.slice((match.index ?? 0) + match[0].length).trimStart();
    if (rest.startsWith('(') || KEYWORDS.has(match[0].toLowerCase())) continue;
    names.push(match[0]);
  }
  return names;
}

async function load(): Promise<{ dashboard: Dashboard; queried: Set<string>; registered: Map<string, string> }> {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
  const queried = new Set(dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => metricNames(t.expr)));
  const metrics = createMetrics({
    version: 'test',
    sinkName: 'stdout',
    state: { heldBytes: () => 0, budgetBytes: () => 0, paused: () => false, backlogBytes: () => 0, oldestUnackedSeconds: () => 0, activeFiles: () => 0, podCacheSize: () => 0 },
  });
  try {
    const families = parseFamilies(await metrics.render());
    return { dashboard, queried, registered: new Map([...families.values()].map((f) => [f.name, f.type])) };
  } finally {
    metrics.close();
  }
}

test('the name extractor finds metric names and nothing else', () => {
  assert.deepEqual(
    metricNames('histogram_quantile(0.99, sum by (le, outcome) (rate(a_seconds_bucket{node=~"$node", x="y{z}"}[$__rate_interval]))) / on (node) b_total offset 5m * 1e3'),
    ['a_seconds_bucket', 'b_total'],
  );
  assert.deepEqual(metricNames('topk(10, sum without (pod) (increase(c_bytes[1h]))) > bool 0 or vector(0)'), ['c_bytes']);
});

test('every metric the dashboard queries exists in the registry', async () => {
  const { queried, registered } = await load();
  assert.ok(queried.size >= 20, `only ${queried.size} metrics queried`);
  for (const name of queried) {
    if (registered.has(name)) continue;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    const type = registered.get(base);
    assert.ok(type === 'HISTOGRAM' || type === 'SUMMARY', `${name} is not in the registry`);
    if (name.endsWith('_bucket')) assert.equal(type, 'HISTOGRAM', `${name}: ${base} has no buckets`);
  }
  // Memory and CPU come from the default process metrics.
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes']) assert.ok(queried.has(name), name);
});

test('every nodetail metric is on the dashboard', async () => {
  const { queried, registered } = await load();
  const shown = new Set([...queried].map((name) => name.replace(/_(bucket|sum|count)$/, '')));
  // Records per namespace say the same as bytes per namespace, which the dashboard shows.
  const unshown = [...registered.keys()].filter((name) => name.startsWith('nodetail_') && !shown.has(name));
  assert.deepEqual(unshown, ['nodetail_input_namespace_records_total']);
});

test('the dashboard picks its data source and nodes, and repeats one row per node', async () => {
  const { dashboard } = await load();
  const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  assert.equal(variables.get('datasource')?.type, 'datasource');
  assert.equal(variables.get('datasource')?.query, 'prometheus');
  assert.equal(variables.get('node')?.type, 'query');
  const repeated = dashboard.panels.filter((p) => p.type === 'row' && p.repeat === 'node');
  assert.equal(repeated.length, 1);
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids must be unique');
  for (const panel of dashboard.panels) {
    assert.ok(panel.gridPos.x >= 0 && panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} is off the grid`);
    if (panel.type === 'row') continue;
    assert.equal(panel.datasource?.uid, '${datasource}', panel.title);
    assert.ok((panel.targets ?? []).length > 0, `${panel.title} has no query`);
    for (const target of panel.targets ?? []) {
      assert.equal(target.datasource?.uid, '${datasource}', panel.title);
      // Every selector is limited to the chosen nodes, so one row shows one node.
      const selectors = target.expr.match(/[a-z_:]+\{[^}]*\}/g) ?? [];
      assert.equal(selectors.length, metricNames(target.expr).length, `${panel.title}: a metric without a selector in ${target.expr}`);
      for (const selector of selectors) assert.ok(selector.includes('node=~"$node"'), `${panel.title}: ${selector}`);
    }
  }
});
