/**
 * Which functions the cluster served, remembered in the store across a Router restart.
 *
 * A submit naming a function that no broker serves right now is one of two things: a
 * name nobody serves (a mistake: 400), or a function whose brokers are away for the
 * moment (the Router just restarted, a broker is restarting: retry). Only this memory
 * tells them apart. A function is forgotten when a broker that served it reports it
 * gone and none other serves it; a broker lost is not such a report.
 *
 * @module
 */
import type { PipelineStore } from "./store.ts";

/**
 * How long a function stays expected back after its last broker went, or after the
 * Router started: a restart of a broker or of the Router takes seconds, the grace
 * covers a machine's reboot.
 */
export const FUNCTION_GRACE_MS = 5 * 60_000;

/** The functions brokers served, and when one last did. */
export class KnownFunctions {
  readonly #store: PipelineStore;
  readonly #startedAt: number;
  readonly #lastServed: Map<string, number>;

  constructor(store: PipelineStore, now = Date.now()) {
    this.#store = store;
    this.#startedAt = now;
    this.#lastServed = store.servedFunctions();
  }

  /**
   * A broker served `before` and now serves `after`; `servedNow` is what any broker
   * serves after the change.
   */
  changed(
    before: Iterable<string>,
    after: Iterable<string>,
    servedNow: ReadonlySet<string>,
    now = Date.now(),
  ): void {
    const fresh: string[] = [];
    const kept = new Set<string>();
    for (const name of after) {
      kept.add(name);
      if (!this.#lastServed.has(name)) fresh.push(name);
      this.#lastServed.set(name, now);
    }
    if (fresh.length > 0) this.#store.rememberServed(fresh, now);
    const gone = [...before].filter((name) => !kept.has(name) && !servedNow.has(name));
    if (gone.length === 0) return;
    for (const name of gone) this.#lastServed.delete(name);
    this.#store.forgetServed(gone);
  }

  /** A broker that served `names` is gone: they were served until `now`. */
  lost(names: Iterable<string>, now = Date.now()): void {
    const served = [...names];
    for (const name of served) this.#lastServed.set(name, now);
    if (served.length > 0) this.#store.rememberServed(served, now);
  }

  /** Whether `name`, which no broker serves now, is expected back: its absence is transient. */
  expected(name: string, now = Date.now()): boolean {
    const at = this.#lastServed.get(name);
    return at !== undefined && now - Math.max(at, this.#startedAt) < FUNCTION_GRACE_MS;
  }

  /** When a broker last served `name`, if the Router remembers it. */
  lastServed(name: string): number | undefined {
    return this.#lastServed.get(name);
  }
}
