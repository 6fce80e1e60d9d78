/**
 * A fixed set of items (the pool's slots), each lent to at most `depth` holders at
 * once, the least used first, with a FIFO line of waiters when all are full.
 *
 * @module
 */

/** Lends out items; waiters are served in arrival order. */
export class SlotQueue<T> {
  readonly #items: readonly T[];
  readonly #depth: number;
  readonly #loans: Map<T, number>;
  /** Items taken whole (see {@linkcode take}), lent to nobody else. */
  readonly #taken = new Set<T>();
  #waiters: Array<(item: T | undefined) => void> = [];
  #closed = false;

  /** @param depth how many holders one item may have at once. */
  constructor(items: readonly T[], depth = 1) {
    this.#items = items;
    this.#depth = depth;
    this.#loans = new Map(items.map((item) => [item, 0]));
  }

  /** Every item, lent or not. */
  get items(): readonly T[] {
    return this.#items;
  }

  /** Items lent out (to one holder or more) or taken now. */
  get busy(): number {
    let busy = 0;
    for (const item of this.#items) if (this.#loans.get(item)! > 0 || this.#taken.has(item)) busy++;
    return busy;
  }

  /**
   * Lends the least used item with room, or waits for one.
   *
   * @returns `undefined` when `signal` aborts first or the queue closes.
   */
  acquire(signal?: AbortSignal): Promise<T | undefined> {
    if (this.#closed || signal?.aborted) return Promise.resolve(undefined);
    const free = this.#roomiest();
    if (free !== undefined) {
      this.#loans.set(free, this.#loans.get(free)! + 1);
      return Promise.resolve(free);
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

  /** Takes `item` whole if nobody holds it; returns whether it did. Give it back with `release`. */
  take(item: T): boolean {
    if (this.#loans.get(item) !== 0 || this.#taken.has(item)) return false;
    this.#taken.add(item);
    return true;
  }

  /** How many hold `item` now. */
  holders(item: T): number {
    return this.#loans.get(item) ?? 0;
  }

  /** Gives `item` back (a loan, or a `take`); the longest waiters get what has room. */
  release(item: T): void {
    if (!this.#taken.delete(item)) this.#loans.set(item, Math.max(0, this.#loans.get(item)! - 1));
    while (this.#waiters.length > 0) {
      const free = this.#roomiest();
      if (free === undefined) break;
      this.#loans.set(free, this.#loans.get(free)! + 1);
      this.#waiters.shift()!(free);
    }
  }

  /** Sends every waiter away with `undefined`; later `acquire` calls get `undefined` too. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  #roomiest(): T | undefined {
    let best: T | undefined;
    let least = this.#depth;
    for (const item of this.#items) {
      const loans = this.#loans.get(item)!;
      if (loans < least && !this.#taken.has(item)) {
        best = item;
        least = loans;
      }
    }
    return best;
  }
}
