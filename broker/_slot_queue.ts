/**
 * A fixed set of items (the pool's slots) lent out one holder at a time, with a
 * FIFO line of waiters when all are taken.
 *
 * @module
 */

/** Lends out items; waiters are served in arrival order. */
export class SlotQueue<T> {
  readonly #items: readonly T[];
  readonly #idle: Set<T>;
  #waiters: Array<(item: T | undefined) => void> = [];
  #closed = false;

  constructor(items: readonly T[]) {
    this.#items = items;
    this.#idle = new Set(items);
  }

  /** Every item, lent or not. */
  get items(): readonly T[] {
    return this.#items;
  }

  /** Items lent out now. */
  get busy(): number {
    return this.#items.length - this.#idle.size;
  }

  /**
   * Takes an idle item, or waits for one.
   *
   * @returns `undefined` when `signal` aborts first or the queue closes.
   */
  acquire(signal?: AbortSignal): Promise<T | undefined> {
    if (this.#closed || signal?.aborted) return Promise.resolve(undefined);
    const [idle] = this.#idle;
    if (idle !== undefined) {
      this.#idle.delete(idle);
      return Promise.resolve(idle);
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== take);
        resolve(undefined);
      };
      const take = (item: T | undefined) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(item);
      };
      this.#waiters.push(take);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Takes `item` if it is idle; returns whether it did. */
  take(item: T): boolean {
    return this.#idle.delete(item);
  }

  /** Gives `item` back: to the longest waiter, or to the idle set. */
  release(item: T): void {
    const next = this.#waiters.shift();
    if (next) next(item);
    else this.#idle.add(item);
  }

  /** Sends every waiter away with `undefined`; later `acquire` calls get `undefined` too. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}
