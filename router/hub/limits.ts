/**
 * The state of one function's flow-control limits on the Router: attempts running
 * per key (for `concurrency` and `concurrencyKey`) and the recent starts (for
 * `rateLimit`). The scheduler asks it whether an attempt may start and tells it
 * when one starts and ends; nothing here knows about queues or brokers.
 *
 * @module
 */
import type { FunctionConfig, JsonObject, RateLimit } from "../../core/types.ts";

/** The key of attempts that share one limit (a function without `concurrencyKey`). */
export const WHOLE = "";
/** Longer key texts are kept as a hash: a client's value may be megabytes, held per job. */
const MAX_KEY_TEXT = 256;

/** FNV-1a over UTF-16 code units, 32 bits twice (two offsets): collisions only cost fairness. */
function hashOf(text: string): string {
  let a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  return `#${(a >>> 0).toString(36)}${(b >>> 0).toString(36)}:${text.length}`;
}

/** Recent starts, oldest first, at most `capacity` of them (a ring). */
class Starts {
  #times: number[] = [];
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The oldest kept start. */
  oldest(): number {
    return this.#times[this.#head]!;
  }

  /** Keeps the last `capacity` starts. */
  add(at: number, capacity: number): void {
    if (this.#times.length !== capacity) this.#resize(capacity);
    if (this.#size < capacity) {
      this.#times[(this.#head + this.#size++) % capacity] = at;
    } else {
      this.#times[this.#head] = at;
      this.#head = (this.#head + 1) % capacity;
    }
  }

  #resize(capacity: number): void {
    const kept = this.list().slice(-capacity);
    this.#times = new Array(capacity).fill(0);
    kept.forEach((at, i) => this.#times[i] = at);
    this.#head = 0;
    this.#size = kept.length;
  }

  /** Every kept start, oldest first. */
  list(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#size; i++) {
      out.push(this.#times[(this.#head + i) % this.#times.length]!);
    }
    return out;
  }
}

/** One function's limits and what they count. */
export class FunctionLimit {
  readonly fn: string;
  /** From the function's config; undefined: no such limit. */
  concurrency: number | undefined;
  keyField: string | undefined;
  rate: RateLimit | undefined;
  /** Attempts running (or handed to a broker), by key. */
  readonly running = new Map<string, number>();
  readonly #starts = new Starts();
  /** Starts from before a restart, until the config tells the window's size. */
  #restored: number[] = [];

  constructor(fn: string) {
    this.fn = fn;
  }

  /** Whether the function has any limit. */
  get limited(): boolean {
    return this.concurrency !== undefined || this.rate !== undefined;
  }

  /** Takes the limits of a (new or changed) config. */
  configure(config: FunctionConfig | undefined): void {
    this.concurrency = config?.concurrency;
    this.keyField = config?.concurrency !== undefined ? config.concurrencyKey : undefined;
    this.rate = config?.rateLimit;
    if (this.rate && this.#restored.length > 0) {
      for (const at of this.#restored.sort((a, b) => a - b)) this.#starts.add(at, this.rate.max);
      this.#restored = [];
    }
  }

  /** The key an attempt with this input counts under. */
  keyOf(input: JsonObject): string {
    if (this.keyField === undefined) return WHOLE;
    // JSON text: the string "1" and the number 1 are different keys; a missing one is its own.
    const text = JSON.stringify(input[this.keyField] ?? null);
    return text.length > MAX_KEY_TEXT ? hashOf(text) : text;
  }

  /** Whether the rate limit lets one more attempt start at `now`. */
  rateAdmits(now: number): boolean {
    const rate = this.rate;
    if (!rate || this.#starts.size < rate.max) return true;
    // The last `max` starts: one more is allowed once the oldest of them left the window.
    return this.#starts.oldest() <= now - rate.perMs;
  }

  /** When the rate limit next lets one start (epoch ms), if it holds now. */
  rateOpensAt(now: number): number | undefined {
    if (this.rateAdmits(now)) return undefined;
    return this.#starts.oldest() + this.rate!.perMs;
  }

  /** Whether one more attempt of `key` may run, as far as `concurrency` goes. */
  concurrencyAdmits(key: string): boolean {
    return this.concurrency === undefined || (this.running.get(key) ?? 0) < this.concurrency;
  }

  /** An attempt of `key` started (or is held as possibly running). */
  started(key: string, now: number, countsAsStart = true): void {
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    if (countsAsStart && this.rate) this.#starts.add(now, this.rate.max);
  }

  /** A start remembered from before a restart. */
  restoreStart(at: number): void {
    if (this.rate) this.#starts.add(at, this.rate.max);
    else this.#restored.push(at);
  }

  /** An attempt of `key` ended. */
  ended(key: string): void {
    const left = (this.running.get(key) ?? 1) - 1;
    if (left > 0) this.running.set(key, left);
    else this.running.delete(key);
  }

  /** Attempts running, all keys. */
  get runningCount(): number {
    let total = 0;
    for (const n of this.running.values()) total += n;
    return total;
  }
}
