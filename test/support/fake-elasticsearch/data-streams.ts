/**
 * The fake Elasticsearch's data streams: each has a generation and a list of backing indices named
 * `.ds-<data stream>-<yyyy.MM.dd>-<generation, 6 digits>` (DataStream.getDefaultBackingIndexName in
 * server/src/main/java/org/elasticsearch/cluster/metadata/DataStream.java, the date being the
 * day the backing index was made). Only the newest backing index takes writes: a `create` checks
 * its `_id` against that write index alone (the "Data streams" page: "you cannot send indexing
 * requests for existing documents directly to a data stream"; a document lives in one backing index).
 */
export class DataStreams {
  readonly #streams = new Map<string, string[]>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  has(name: string): boolean {
    return this.#streams.has(name);
  }

  /** The write index of `name`, creating the data stream on first use. */
  writeIndex(name: string): string {
    let backing = this.#streams.get(name);
    if (backing === undefined) this.#streams.set(name, (backing = [this.#backingName(name, 1)]));
    return backing.at(-1) as string;
  }

  /** `POST /<name>/_rollover`: a new write index; the old ones keep their documents. */
  rollover(name: string): { oldIndex: string; newIndex: string } {
    const oldIndex = this.writeIndex(name);
    const backing = this.#streams.get(name) as string[];
    const newIndex = this.#backingName(name, backing.length + 1);
    backing.push(newIndex);
    return { oldIndex, newIndex };
  }

  /** The failure store index of `name` (`.fs-<name>-<date>-<generation>`, Elasticsearch 9). */
  failureIndex(name: string): string {
    return this.#backingName(name, 1).replace(/^\.ds-/, '.fs-');
  }

  #backingName(name: string, generation: number): string {
    const day = new Date(this.#now()).toISOString().slice(0, 10).replaceAll('-', '.');
    return `.ds-${name}-${day}-${String(generation).padStart(6, '0')}`;
  }
}
