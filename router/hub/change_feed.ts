/**
 * Pipeline changes for live views (SSE): after each store commit, the Router
 * publishes the ids of pipelines that changed; subscribers get them in order.
 *
 * @module
 */

/** Called with the ids of pipelines changed by one committed batch. */
export type ChangeListener = (pipelineIds: ReadonlySet<string>) => void;

/** A fan-out of committed changes. */
export class ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();

  /** Listens until the returned function is called. */
  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** How many listen now. */
  get size(): number {
    return this.#listeners.size;
  }

  /** Tells every listener; one that throws is dropped, the rest still hear. */
  publish(pipelineIds: ReadonlySet<string>): void {
    if (pipelineIds.size === 0) return;
    for (const listener of this.#listeners) {
      try {
        listener(pipelineIds);
      } catch {
        this.#listeners.delete(listener);
      }
    }
  }
}
