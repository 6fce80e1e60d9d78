/**
 * How many malformed messages a peer gets answered (and logged) per second: a peer
 * flooding garbage must not fill the Router's queues or its log.
 *
 * @module
 */

/** Error replies per peer per second. */
const PER_SECOND = 100;

/** A per-peer allowance that refills every second. */
export class ErrorBudget {
  readonly #used = new Map<string, number>();
  #second = 0;

  /** Spends one of the peer's answers; false when it has none left this second. */
  spend(address: Uint8Array): boolean {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#used.clear();
    }
    const key = String.fromCharCode(...address);
    const used = (this.#used.get(key) ?? 0) + 1;
    this.#used.set(key, used);
    return used <= PER_SECOND;
  }
}
