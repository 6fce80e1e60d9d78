/**
 * Ready attempts in priority order: one first-in-first-out lane per priority (0 to
 * 9). The head of a lane is its oldest attempt, so the best attempt of a set of
 * lanes is one of their heads: the one of the highest priority once aged (a level
 * more per `agingMs` waited, up to 9), the oldest among equals. A lane that only
 * ever holds priority 0 is a plain FIFO.
 *
 * @module
 */
import { MAX_PRIORITY } from "../../core/dag/mod.ts";
import type { Attempt } from "./scheduler.ts";

/** An attempt in a lane: when it was queued, and its place in the order of arrival. */
export interface Queued {
  readonly attempt: Attempt;
  /** Epoch ms it was queued. */
  readonly at: number;
  /** Grows with each attempt queued (ties broken by arrival). */
  readonly seq: number;
  /** The key of its function's limit it counts under. */
  readonly key: string;
}

/** A FIFO with O(1) push and shift. */
class Fifo {
  items: (Queued | undefined)[] = [];
  head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  shift(): Queued {
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  keep(predicate: (item: Queued) => boolean): void {
    this.items = (this.items.slice(this.head) as Queued[]).filter(predicate);
    this.head = 0;
  }
}

/** The aged priority of an attempt queued at `at`, from 0 to 9. */
export function agedPriority(priority: number, at: number, now: number, agingMs: number): number {
  if (priority >= MAX_PRIORITY) return MAX_PRIORITY;
  return Math.min(MAX_PRIORITY, priority + Math.max(0, Math.floor((now - at) / agingMs)));
}

/** Lanes of one priority each. */
export class PriorityLanes {
  readonly #lanes: Fifo[] = [];
  /** Bit `p` is set while lane `p` holds attempts. */
  #mask = 0;
  size = 0;

  /** Adds at the end of its priority's lane. */
  push(item: Queued): void {
    const p = item.attempt.priority;
    const lane = this.#lanes[p] ??= new Fifo();
    lane.items.push(item);
    this.#mask |= 1 << p;
    this.size++;
  }

  /**
   * The lane of the best head at `now` (see the module doc), or -1 when empty; its
   * aged priority and arrival are left in `rank`.
   */
  best(now: number, agingMs: number, rank: { aged: number; seq: number }): number {
    const mask = this.#mask;
    if (mask === 0) return -1;
    let best = -1;
    let aged = -1;
    let seq = Infinity;
    for (let p = MAX_PRIORITY; p >= 0; p--) {
      if ((mask & (1 << p)) === 0) continue;
      const lane = this.#lanes[p]!;
      const head = lane.items[lane.head]!;
      const a = agedPriority(p, head.at, now, agingMs);
      if (a > aged || (a === aged && head.seq < seq)) {
        best = p;
        aged = a;
        seq = head.seq;
      }
    }
    rank.aged = aged;
    rank.seq = seq;
    return best;
  }

  /** Removes and returns the head of lane `p` (from {@linkcode best}). */
  shift(p: number): Queued {
    const lane = this.#lanes[p]!;
    const item = lane.shift();
    if (lane.length === 0) this.#mask &= ~(1 << p);
    this.size--;
    return item;
  }

  /** Keeps only the attempts `predicate` accepts. */
  keep(predicate: (item: Queued) => boolean): void {
    this.size = 0;
    this.#lanes.forEach((lane, p) => {
      lane.keep(predicate);
      this.size += lane.length;
      if (lane.length === 0) this.#mask &= ~(1 << p);
    });
  }

  /** Every attempt, lane by lane. */
  *[Symbol.iterator](): Generator<Queued> {
    for (const lane of this.#lanes) {
      if (!lane) continue;
      for (let i = lane.head; i < lane.items.length; i++) yield lane.items[i]!;
    }
  }

  /** When the oldest attempt was queued (epoch ms): each lane's head is its oldest. */
  oldestAt(): number {
    let oldest = Infinity;
    for (const lane of this.#lanes) {
      if (lane && lane.length > 0) oldest = Math.min(oldest, lane.items[lane.head]!.at);
    }
    return oldest;
  }

  /** Attempts per priority. */
  counts(): number[] {
    return Array.from({ length: MAX_PRIORITY + 1 }, (_, p) => this.#lanes[p]?.length ?? 0);
  }
}
