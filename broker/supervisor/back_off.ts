/**
 * Restart back-off per worker host: a host that keeps dying is started again a
 * little later each time (doubling up to a ceiling), and back at the shortest delay
 * once it has lived a while.
 *
 * @module
 */

/** How long after a host died it is started again, ms (doubling while it keeps dying). */
const MIN_MS = 100;
const MAX_MS = 5_000;

/** Back-off delays and their timers, per key. */
export class BackOff<K> {
  readonly #delay = new Map<K, number>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  /** Runs `task` after `key`'s delay, and doubles the delay for next time. */
  after(key: K, task: () => void): void {
    const delay = this.#delay.get(key) ?? MIN_MS;
    this.#delay.set(key, Math.min(delay * 2, MAX_MS));
    this.#later(delay, task);
  }

  /** `key` started again: back to the shortest delay if `lived()` still holds a while later. */
  started(key: K, lived: () => boolean): void {
    this.#later(MAX_MS, () => {
      if (lived()) this.#delay.delete(key);
    });
  }

  /** Calls off every pending restart. */
  clear(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #later(ms: number, task: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      task();
    }, ms);
    this.#timers.add(timer);
  }
}
