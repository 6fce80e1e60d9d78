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

/** Timeouts keyed by `K`, all on one timer. */
export class Deadlines<K> {
  readonly #entries = new Map<K, { at: number; expire: () => void }>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedAt = Infinity;

  /** Calls `expire` in `ms` unless `key` is deleted first (a key added again replaces it). */
  add(key: K, ms: number, expire: () => void): void {
    const at = Date.now() + Math.max(0, ms);
    this.#entries.set(key, { at, expire });
    if (at < this.#armedAt) this.#arm(at);
  }

  /** Drops `key`'s timeout; false when it had none (it expired or was never added). */
  delete(key: K): boolean {
    const had = this.#entries.delete(key);
    if (this.#entries.size === 0) this.#disarm();
    return had;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops every timeout without calling it. */
  clear(): void {
    this.#entries.clear();
    this.#disarm();
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - Date.now()));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = Date.now();
    const due: (() => void)[] = [];
    let next = Infinity;
    for (const [key, entry] of this.#entries) {
      if (entry.at <= now) {
        this.#entries.delete(key);
        due.push(entry.expire);
      } else if (entry.at < next) next = entry.at;
    }
    if (next < Infinity) this.#arm(next);
    // After re-arming: a callback may add (or delete) entries itself.
    for (const expire of due) expire();
  }
}
