/**
 * The limits of every function the scheduler met, read again from the brokers'
 * configs whenever those change, with the two things that carry a limit over a
 * Router restart: starts remembered from the store, and attempts that were running
 * when it stopped (held against their limit while they may still run).
 *
 * @module
 */
import type { JsonObject } from "../../core/types.ts";
import { FunctionLimit } from "./limits.ts";
import type { Registry } from "./registry.ts";

/** A function's limits and what waits on them, for metrics and the dashboard. */
export interface LimitView {
  fn: string;
  concurrency?: number;
  concurrencyKey?: string;
  rateLimit?: { max: number; perMs: number };
  /** Attempts running under the limit (held ones after a restart too). */
  running: number;
  /** Distinct keys running. */
  keys: number;
  /** Attempts queued. */
  queued: number;
  /** Of those, how many the limit holds back now. */
  waiting: number;
}

/** Limits by function. */
export class LimitBook {
  readonly #registry: Registry;
  /** Of every function met (most have no limit: `limited` is false). */
  readonly #limits = new Map<string, FunctionLimit>();
  /** The registry's functions version the limits were read at. */
  #version = -1;
  /** Attempts of before a restart that may still run, by execution key. */
  readonly #inDoubt = new Map<string, { limit: FunctionLimit; input: JsonObject; key: string }>();

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  /** Whether the brokers' configs changed since {@linkcode refresh}. */
  get stale(): boolean {
    return this.#registry.functionsVersion !== this.#version;
  }

  /** Reads every limit's config again; false when nothing changed. */
  refresh(): boolean {
    if (!this.stale) return false;
    this.#version = this.#registry.functionsVersion;
    for (const limit of this.#limits.values()) limit.configure(this.#registry.config(limit.fn));
    for (const held of this.#inDoubt.values()) {
      const key = held.limit.keyOf(held.input);
      if (key === held.key) continue;
      held.limit.ended(held.key);
      held.limit.started(key, 0, false);
      held.key = key;
    }
    return true;
  }

  /** The limit of `fn` (`limited` false when its config has none). */
  of(fn: string): FunctionLimit {
    let limit = this.#limits.get(fn);
    if (limit) return limit;
    limit = new FunctionLimit(fn);
    limit.configure(this.#registry.config(fn));
    this.#limits.set(fn, limit);
    return limit;
  }

  /** The limit of `fn` if it was met. */
  get(fn: string): FunctionLimit | undefined {
    return this.#limits.get(fn);
  }

  /** Every limit met. */
  values(): IterableIterator<FunctionLimit> {
    return this.#limits.values();
  }

  /**
   * Holds a job that was running when the Router stopped against its function's
   * limit: its attempt may still run on a broker. Released by {@linkcode release}.
   */
  holdInDoubt(fn: string, input: JsonObject, key: string): void {
    const limit = this.of(fn);
    // Before a broker tells the config the key field is not known: keyed again then.
    const limitKey = limit.keyOf(input);
    limit.started(limitKey, 0, false);
    this.#inDoubt.set(key, { limit, input, key: limitKey });
  }

  /** Lets go of a job held in doubt, if it is. */
  release(key: string): void {
    if (this.#inDoubt.size === 0) return;
    const held = this.#inDoubt.get(key);
    if (!held) return;
    this.#inDoubt.delete(key);
    held.limit.ended(held.key);
  }

  /** Lets go of every job held in doubt. */
  releaseAll(): void {
    for (const key of [...this.#inDoubt.keys()]) this.release(key);
  }

  /** Starts of rate-limited functions remembered from before a restart. */
  restoreStarts(starts: Array<{ fn: string; at: number }>): void {
    for (const { fn, at } of starts) this.of(fn).restoreStart(at);
  }
}
