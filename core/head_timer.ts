/**
 * One timer for "the job at the head of a queue must end by its deadline", cheap
 * when the head changes every few microseconds: it is re-armed only when a deadline
 * comes sooner than the one it waits for, and when it fires early (the head has
 * moved on since), it looks again. A timer per job cost more than a trivial job.
 *
 * @module
 */
import { timerDelay } from "./timers.ts";

/** A deadline watch over a changing head. */
export class HeadTimer {
  readonly #due: () => number | undefined;
  readonly #expire: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #at = Infinity;

  /**
   * @param due The current deadline (`performance.now()` ms), or undefined for none.
   * @param expire Called once the deadline has passed; it must move or clear the deadline.
   */
  constructor(due: () => number | undefined, expire: () => void) {
    this.#due = due;
    this.#expire = expire;
  }

  /** Looks at the deadline again: call whenever it may have come sooner or gone. */
  update(): void {
    const at = this.#due();
    if (at === undefined) return this.cancel();
    if (this.#timer !== undefined && this.#at <= at) return;
    clearTimeout(this.#timer);
    this.#at = at;
    // A deadline past 24.8 days fires early, finds nothing due, and re-arms.
    this.#timer = setTimeout(() => this.#fire(), timerDelay(at - performance.now()));
  }

  /** Stops watching. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#at = Infinity;
    const at = this.#due();
    if (at !== undefined && performance.now() >= at) this.#expire();
    this.update();
  }
}
