/** Room past `maxBytes`, so that the item that closes a batch nearly always fits without growing. */
const SLACK_BYTES = 256 * 1024;
/**
 * Full bodies kept for reuse: the default budget (8 MiB) holds about three 2 MiB bodies in flight,
 * so during a backfill nearly every body comes back here instead of going to the allocator (a
 * dropped one lingers as external memory until a GC). Dropped as soon as batches are small again.
 */
const SPARES = 8;

/** Room for this many item ends at first; doubled when full (a full 2 MiB batch holds about 5,000). */
const INITIAL_ENDS = 1024;

/**
 * Writes encoded items straight into one reused buffer, as UTF-8, and remembers where each one
 * ends: the closed batch is the request body, with no join and no copy per request. The string
 * an item was encoded into dies young; only the bytes are kept until acknowledged.
 *
 * The ends are a typed array, outside V8's heap: a batch lives for the length of its request, long
 * enough for a JS array of thousands of numbers (and each copy made while it grew) to be promoted to
 * the old generation, where it was about 40 % of all promoted bytes in the 2,000,000-line benchmark.
 *
 * A body that filled less than half of its buffer (a batch closed by its age) is copied out to a
 * buffer of its own size, and so are its ends, so that a slow trickle of small batches while the
 * output is down never holds a large buffer each. Full bodies go out as they are and their buffers
 * come back through `recycle` once acknowledged; the spares are let go once a small batch shows
 * the rush is over.
 */
export class BodyBuilder {
  readonly #capacity: number;
  // Allocated at the first item: an idle agent holds none. allocUnsafe: pages never written stay out of RSS.
  #buf: Buffer | undefined;
  #used = 0;
  #ends = new Uint32Array(INITIAL_ENDS);
  #items = 0;
  readonly #spares: Buffer[] = [];

  constructor(maxBytes: number) {
    this.#capacity = maxBytes + SLACK_BYTES;
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.#used;
  }

  /** Items written so far. */
  get items(): number {
    return this.#items;
  }

  /** Appends one item; returns its UTF-8 bytes. */
  write(item: string): number {
    let buf = this.#buf ?? this.#fresh();
    const room = buf.length - this.#used;
    // A UTF-16 unit is at most 3 UTF-8 bytes: only an item that might not fit is measured.
    if (item.length * 3 > room) {
      const need = Buffer.byteLength(item);
      if (need > room) buf = this.#grow(this.#used + need);
    }
    const n = buf.write(item, this.#used);
    this.#used += n;
    if (this.#items === this.#ends.length) {
      const grown = new Uint32Array(this.#items * 2);
      grown.set(this.#ends);
      this.#ends = grown;
    }
    this.#ends[this.#items++] = this.#used;
    return n;
  }

  /** The body and item ends written so far; the builder starts empty again. */
  take(): { body: Buffer; ends: Uint32Array } {
    const used = this.#used;
    const buf = this.#buf;
    const ends = this.#takeEnds();
    this.#used = 0;
    if (buf === undefined || used === 0) return { body: Buffer.alloc(0), ends };
    if (used * 2 < buf.length) {
      const body = Buffer.allocUnsafe(used);
      buf.copy(body, 0, 0, used);
      if (buf.length !== this.#capacity) this.#buf = undefined; // grown for one large item: not kept
      // Small batches: the backfill is over, so the spares only hold memory.
      this.#spares.length = 0;
      return { body, ends };
    }
    this.#buf = undefined;
    return { body: buf.subarray(0, used), ends };
  }

  /** A body `take` returned is no longer used by anyone: its buffer may be written again. */
  recycle(body: Buffer): void {
    const whole = body.buffer;
    if (body.byteOffset !== 0 || whole.byteLength !== this.#capacity || this.#spares.length >= SPARES) return;
    if (whole === this.#buf?.buffer || this.#spares.some((s) => s.buffer === whole)) return; // recycled twice
    this.#spares.push(Buffer.from(whole, 0, this.#capacity));
  }

  /** The ends written so far: copied out when few (the array is kept), else handed over whole. */
  #takeEnds(): Uint32Array {
    const n = this.#items;
    const all = this.#ends;
    this.#items = 0;
    if (n * 2 < all.length) return all.slice(0, n);
    this.#ends = new Uint32Array(all.length);
    return all.subarray(0, n);
  }

  #fresh(): Buffer {
    const buf = this.#spares.pop() ?? Buffer.allocUnsafeSlow(this.#capacity);
    this.#buf = buf;
    return buf;
  }

  /** An item larger than the slack: a bigger buffer, used for this batch only (recycle ignores it). */
  #grow(needed: number): Buffer {
    const old = this.#buf as Buffer;
    const grown = Buffer.allocUnsafeSlow(Math.max(needed, old.length * 2));
    old.copy(grown, 0, 0, this.#used);
    // The old buffer goes back to the spares: it is of the usual size and no batch uses it.
    if (old.length === this.#capacity && this.#spares.length < SPARES) this.#spares.push(old);
    this.#buf = grown;
    return grown;
  }
}
