/**
 * Many timeouts on one timer: each entry has a deadline and a callback, and a single
 * timer waits for the soonest. Adding and removing an entry is a map operation, not a
 * system timer each: a timer per request cost more than a small request.
 *
 * ```ts
 * const deadlines = new Deadlines<string>();
 * deadlines.add("request-1", 5000, () => console.log("request-1 timed out"));
 * deadlines.delete("request-1"); // Answered in time.
 * ```
 *
 * @module
 */
import { HeadTimer } from "./head_timer.ts";

/** Timeouts keyed by `K`, all on one timer. */
export class Deadlines<K> {
  readonly #entries = new Map<K, { at: number; expire: () => void }>();
  /** No later than the soonest deadline (it may be earlier, after deletions: then it looks again). */
  #soonest = Infinity;
  readonly #timer = new HeadTimer(
    () => (this.#entries.size > 0 ? this.#soonest : undefined),
    () => this.#expire(),
  );

  /** Calls `expire` in `ms` unless `key` is deleted first (a key added again replaces it). */
  add(key: K, ms: number, expire: () => void): void {
    const at = performance.now() + Math.max(0, ms);
    this.#entries.set(key, { at, expire });
    if (at < this.#soonest) {
      this.#soonest = at;
      this.#timer.update();
    }
  }

  /** Drops `key`'s timeout; false when it had none (it expired or was never added). */
  delete(key: K): boolean {
    const had = this.#entries.delete(key);
    if (this.#entries.size === 0) this.clear();
    return had;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops every timeout without calling it. */
  clear(): void {
    this.#entries.clear();
    this.#soonest = Infinity;
    this.#timer.cancel();
  }

  #expire(): void {
    const now = performance.now();
    const due: (() => void)[] = [];
    let next = Infinity;
    for (const [key, entry] of this.#entries) {
      if (entry.at <= now) {
        this.#entries.delete(key);
        due.push(entry.expire);
      } else if (entry.at < next) next = entry.at;
    }
    this.#soonest = next;
    // The timer re-arms after this; a callback may add (or delete) entries itself.
    for (const expire of due) expire();
  }
}
