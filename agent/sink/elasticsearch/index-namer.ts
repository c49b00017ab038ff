import type { ElasticsearchConfig } from '../../config/load-config.ts';
import type { LogRecord } from '../../core/record.ts';

export type IndexNamer = (record: LogRecord) => string;

/**
 * The index (or data stream) a record goes to.
 *
 * logstash mode: `<prefix>-<date>`, the date being the record's own time in UTC, formatted as
 * Fluentd's `logstash_dateformat` (strftime `%Y %m %d %H`, plus `%j` and `%%`). Most
 * timestamps on a node are UTC already (containerd writes `Z`, CRI-O `+00:00`), so their first
 * 10 characters are the day and no Date is built; the formatted name is cached per day (per
 * hour when the format uses `%H`), so the cost per record is a slice and a map lookup.
 *
 * data_stream mode: `logs-<dataset>-<namespace>` for every record: one string.
 * index mode: `index_name` for every record (Fluentd's `logstash_format false`).
 */
export function createIndexNamer(
  config: Pick<ElasticsearchConfig, 'indexMode' | 'indexName' | 'logstashPrefix' | 'logstashDateformat' | 'dataStreamDataset' | 'dataStreamNamespace'>,
  now: () => number = Date.now,
): IndexNamer {
  if (config.indexMode === 'index') {
    const name = config.indexName;
    return () => name;
  }
  if (config.indexMode === 'data_stream') {
    const name = `logs-${config.dataStreamDataset}-${config.dataStreamNamespace}`;
    return () => name;
  }
  const prefix = `${config.logstashPrefix}-`;
  const format = config.logstashDateformat;
  const hourly = format.includes('%H');
  const cache = new Map<string, string>();
  const nameFor = (key: string, date: Date): string => {
    let name = cache.get(key);
    if (name === undefined) {
      // Bounded: a flood of records with wildly different dates must not grow memory forever.
      if (cache.size >= 64) cache.clear();
      name = prefix + strftimeUtc(format, date);
      cache.set(key, name);
    }
    return name;
  };
  // Records come in time order, so nearly every one has the day of the one before: compare
  // against it before slicing a key and hashing it.
  let lastDay = '\u0000';
  let lastName = '';
  return (record) => {
    const time = record.time;
    if (!hourly && (time.endsWith('Z') || time.endsWith('+00:00')) && time.length >= 10 && time.charCodeAt(4) === 45 /* - */) {
      if (time.startsWith(lastDay)) return lastName;
      const day = time.slice(0, 10);
      const date = new Date(`${day}T00:00:00Z`);
      if (!Number.isNaN(date.getTime())) {
        lastName = nameFor(day, date);
        lastDay = day;
        return lastName;
      }
    }
    let ms = Date.parse(time);
    if (Number.isNaN(ms)) ms = now(); // an unparsable time goes to today's index rather than nowhere
    const date = new Date(ms);
    const key = date.toISOString().slice(0, hourly ? 13 : 10);
    return nameFor(key, date);
  };
}

/** strftime for the directives an index date needs, in UTC. Unknown directives are kept as written. */
export function strftimeUtc(format: string, date: Date): string {
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  return format.replace(/%([YmdHjy%])/g, (_, d: string) => {
    switch (d) {
      case 'Y': return String(date.getUTCFullYear());
      case 'y': return two(date.getUTCFullYear() % 100);
      case 'm': return two(date.getUTCMonth() + 1);
      case 'd': return two(date.getUTCDate());
      case 'H': return two(date.getUTCHours());
      case 'j': {
        const start = Date.UTC(date.getUTCFullYear(), 0, 1);
        return String(Math.floor((date.getTime() - start) / 86_400_000) + 1).padStart(3, '0');
      }
      default: return '%';
    }
  });
}
