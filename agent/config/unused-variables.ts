import { OPTIONS } from './options.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Fluentd's parts of the Elasticsearch URL, read only when no URL is set (load-config.ts). */
const FLUENT_URL_PARTS = ['FLUENT_ELASTICSEARCH_HOST', 'FLUENT_ELASTICSEARCH_PORT', 'FLUENT_ELASTICSEARCH_SCHEME', 'FLUENT_ELASTICSEARCH_PATH'];

export interface UnusedVariables {
  /** `NODETAIL_*` variables that name no setting, each with the nearest one that exists. */
  readonly unknown: ReadonlyArray<{ readonly variable: string; readonly nearest: string; readonly key: string }>;
  /** `FLUENT_*` / `FLUENTD_*` variables that are set but change nothing (no counterpart, or shadowed). */
  readonly ignoredFluent: readonly string[];
}

/**
 * Variables that look like settings but do nothing: a misspelt `NODETAIL_ELASTICSEARCH_URLS`
 * would otherwise be ignored in silence, and so would the many Fluentd variables a copied
 * fluentd-kubernetes-daemonset manifest carries. They are announced at start-up, never fatal
 * (a Fluentd manifest must keep working when only the image changes).
 */
export function unusedVariables(env: Env): UnusedVariables {
  const set = (name: string): boolean => env[name] !== undefined && env[name] !== '';
  const known = new Map<string, string>();
  const effective = new Set<string>();
  for (const spec of OPTIONS) {
    for (const name of spec.env) known.set(name, spec.key);
    // The first variable set is the one read; later aliases are shadowed by it.
    const used = spec.env.find(set);
    if (used !== undefined) effective.add(used);
  }
  if (!effective.has('ELASTICSEARCH_URL') && !effective.has('NODETAIL_ELASTICSEARCH_URL')) for (const name of FLUENT_URL_PARTS) effective.add(name);

  const names = Object.keys(env).filter(set).sort();
  const nodetailNames = [...known.keys()].filter((name) => name.startsWith('NODETAIL_'));
  const unknown = names
    .filter((name) => name.startsWith('NODETAIL_') && !known.has(name))
    .map((variable) => {
      const nearest = nodetailNames.reduce((best, name) => (distance(variable, name) < distance(variable, best) ? name : best));
      return { variable, nearest, key: known.get(nearest) as string };
    });
  const ignoredFluent = names.filter((name) => /^FLUENTD?_/.test(name) && !effective.has(name));
  return { unknown, ignoredFluent };
}

/** Levenshtein distance: the fewest single-character edits from a to b. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next.push(Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + cost));
    }
    row = next;
  }
  return row[b.length] as number;
}
