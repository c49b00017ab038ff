import parsePrometheusTextFormat, { type ParsedFamily, type ParsedSample } from 'parse-prometheus-text-format';

/** Prometheus text parsed by a real parser, by family name: for tests that assert exact values. */
export type Families = ReadonlyMap<string, ParsedFamily>;

export function parseFamilies(text: string): Families {
  return new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
}

function matches(sample: ParsedSample, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(labels).every(([name, value]) => sample.labels?.[name] === value);
}

/** The one sample of `name` whose labels include `labels`; throws when there is not exactly one. */
export function sampleOf(families: Families, name: string, labels: Readonly<Record<string, string>> = {}): ParsedSample {
  const family = families.get(name);
  if (family === undefined) throw new Error(`no metric ${name}`);
  const found = family.metrics.filter((sample) => matches(sample, labels));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]!;
}

/** The value of a counter or gauge sample, as a number. */
export function valueOf(families: Families, name: string, labels: Readonly<Record<string, string>> = {}): number {
  return Number(sampleOf(families, name, labels).value);
}

/**
 * One labelled series of a histogram. parse-prometheus-text-format 1.1.1 merges every label set
 * of a histogram family into one sample (it keys buckets by `le` alone) and keeps `_sum` and
 * `_count` only when they have no labels. So the family's lines of other label sets are left
 * out, and the chosen set's labels are taken off its `_sum` and `_count` lines, before it parses.
 */
export function histogramOf(text: string, name: string, labels: Readonly<Record<string, string>>): ParsedSample {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}=${JSON.stringify(value)}`);
  const kept = text
    .split('\n')
    .filter((line) => !line.startsWith(`${name}_`) || wanted.every((pair) => line.includes(pair)))
    .map((line) => (line.startsWith(`${name}_sum{`) || line.startsWith(`${name}_count{`) ? line.slice(0, line.indexOf('{')) + line.slice(line.indexOf('}') + 1) : line))
    .join('\n');
  return sampleOf(parseFamilies(kept), name);
}
