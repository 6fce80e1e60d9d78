/**
 * Collects what is added during one turn of the event loop and hands it all over
 * at the end of that turn, at once: many messages, one write or one send.
 *
 * ```ts
 * const batch = new TurnBatch<Uint8Array>((frames) => writer.write(concat(...frames)));
 * await Promise.all([batch.add(a), batch.add(b)]); // One write.
 * ```
 *
 * @module
 */

/** A turn's worth of items, handed to `flush` together. */
export class TurnBatch<T> {
  readonly #flush: (items: T[]) => void | Promise<void>;
  #pending: { items: T[]; done: PromiseWithResolvers<void> } | undefined;

  /** @param flush takes one turn's items; its failure rejects every `add` of that turn. */
  constructor(flush: (items: T[]) => void | Promise<void>) {
    this.#flush = flush;
  }

  /** Adds an item; resolves once the flush that takes it is done. */
  add(item: T): Promise<void> {
    if (!this.#pending) {
      const pending = { items: [] as T[], done: Promise.withResolvers<void>() };
      this.#pending = pending;
      queueMicrotask(() => this.#run(pending));
    }
    this.#pending.items.push(item);
    return this.#pending.done.promise;
  }

  /** Hands over what was added so far now, without waiting for the end of the turn. */
  flushNow(): Promise<void> {
    const pending = this.#pending;
    if (!pending) return Promise.resolve();
    this.#run(pending);
    return pending.done.promise;
  }

  #run(pending: { items: T[]; done: PromiseWithResolvers<void> }): void {
    if (this.#pending !== pending) return; // Already flushed by flushNow.
    this.#pending = undefined;
    try {
      Promise.resolve(this.#flush(pending.items))
        .then(() => pending.done.resolve(), (error) => pending.done.reject(error));
    } catch (error) {
      pending.done.reject(error);
    }
  }
}
