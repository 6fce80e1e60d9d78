/**
 * One function's ready attempts in the scheduler: in one set of priority lanes, or,
 * when its limit has a `concurrencyKey`, in a set per key, so that a key at its limit
 * holds back only its own attempts.
 *
 * @module
 */
import type { FunctionLimit } from "./limits.ts";
import { PriorityLanes, type Queued } from "./priority_lanes.ts";

/** The attempt a queue would start next: its lanes, lane, aged priority and arrival. */
export interface Pick {
  lanes: PriorityLanes;
  lane: number;
  aged: number;
  seq: number;
}

/** One function's waiting attempts. */
export class FunctionQueue {
  readonly fn: string;
  /** Its limit, when it has one. */
  readonly limit: FunctionLimit | undefined;
  /** Without a key: every attempt. */
  readonly lanes = new PriorityLanes();
  /** With a key: attempts by key. */
  readonly byKey: Map<string, PriorityLanes> | undefined;
  /** The key field its attempts were sorted by. */
  readonly keyField: string | undefined;
  size = 0;
  readonly #rank = { aged: 0, seq: 0 };

  constructor(fn: string, limit: FunctionLimit | undefined) {
    this.fn = fn;
    this.limit = limit;
    this.keyField = limit?.keyField;
    this.byKey = this.keyField !== undefined ? new Map() : undefined;
  }

  push(item: Queued): void {
    this.size++;
    if (!this.byKey) return this.lanes.push(item);
    let lanes = this.byKey.get(item.key);
    if (!lanes) this.byKey.set(item.key, lanes = new PriorityLanes());
    lanes.push(item);
  }

  /** When its oldest attempt was queued (epoch ms); `Infinity` when empty. */
  oldestAt(): number {
    let oldest = this.lanes.oldestAt();
    for (const lanes of this.byKey?.values() ?? []) oldest = Math.min(oldest, lanes.oldestAt());
    return oldest;
  }

  /** Keeps only the attempts `predicate` accepts (it must count `size` down itself). */
  keep(predicate: (item: Queued) => boolean): void {
    this.lanes.keep(predicate);
    for (const lanes of this.byKey?.values() ?? []) lanes.keep(predicate);
  }

  /**
   * The best attempt that the limit's concurrency lets start at `now`, into `pick`;
   * false when there is none.
   */
  pick(now: number, agingMs: number, pick: Pick): boolean {
    const limit = this.limit;
    const rank = this.#rank;
    if (!this.byKey) {
      if (limit && !limit.concurrencyAdmits("")) return false;
      pick.lanes = this.lanes;
      pick.lane = this.lanes.best(now, agingMs, rank);
      pick.aged = rank.aged;
      pick.seq = rank.seq;
      return pick.lane >= 0;
    }
    let found = false;
    for (const [key, lanes] of this.byKey) {
      if (lanes.size === 0) {
        this.byKey.delete(key);
        continue;
      }
      if (!limit!.concurrencyAdmits(key)) continue;
      const lane = lanes.best(now, agingMs, rank);
      if (!found || rank.aged > pick.aged || (rank.aged === pick.aged && rank.seq < pick.seq)) {
        found = true;
        pick.lanes = lanes;
        pick.lane = lane;
        pick.aged = rank.aged;
        pick.seq = rank.seq;
      }
    }
    return found;
  }

  *[Symbol.iterator](): Generator<Queued> {
    yield* this.lanes;
    for (const lanes of this.byKey?.values() ?? []) yield* lanes;
  }
}
