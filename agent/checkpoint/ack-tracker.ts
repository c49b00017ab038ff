/**
 * The offset of one file that is safe to resume from. Records of a file go out in order, in
 * segments (the part of one batch that came from this file); batches are acknowledged in any
 * order. The offset moves only past segments that are acknowledged AND every segment before
 * them is too: a crash at any instant then loses nothing (at-least-once, end to end).
 */
export interface Segment {
  /** Moves forward while the segment's batch is still being filled. */
  resume: number;
  done: boolean;
}

export class AckTracker {
  /** Everything before this offset is acknowledged. */
  acked: number;
  #segments: Segment[] = [];
  #head = 0;

  constructor(offset: number) {
    this.acked = offset;
  }

  /** A new segment ending at `resume`; acknowledge it later with `ack`. */
  open(resume: number): Segment {
    const segment = { resume, done: false };
    this.#segments.push(segment);
    return segment;
  }

  /** Marks the segment acknowledged; returns how far `acked` moved. */
  ack(segment: Segment): number {
    segment.done = true;
    const before = this.acked;
    const segments = this.#segments;
    while (this.#head < segments.length && (segments[this.#head] as Segment).done) {
      this.acked = Math.max(this.acked, (segments[this.#head] as Segment).resume);
      this.#head++;
    }
    if (this.#head === segments.length) {
      segments.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#segments = segments.slice(this.#head);
      this.#head = 0;
    }
    return this.acked - before;
  }

  /** Segments sent but not yet acknowledged. */
  inFlight(): number {
    return this.#segments.length - this.#head;
  }
}
