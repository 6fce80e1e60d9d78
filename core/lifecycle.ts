/**
 * A daemon's one explicit lifecycle state: `starting -> running -> stopping ->
 * stopped`. Each daemon's `start()` handle exposes it, so a test or a front can ask
 * what the daemon is doing instead of inferring it from flags spread over its code.
 *
 * @module
 */

/** Where a daemon is in its life. */
export type LifecycleState = "starting" | "running" | "stopping" | "stopped";

/** The state of one daemon, moved only forward. */
export class Lifecycle {
  #state: LifecycleState = "starting";

  /** The current state. */
  get state(): LifecycleState {
    return this.#state;
  }

  /** Whether it takes new work: only while running. */
  get running(): boolean {
    return this.#state === "running";
  }

  /** Start-up finished. */
  started(): void {
    if (this.#state === "starting") this.#state = "running";
  }

  /** Begins a stop; false when a stop already began (the caller then waits for that one). */
  stopping(): boolean {
    if (this.#state === "stopping" || this.#state === "stopped") return false;
    this.#state = "stopping";
    return true;
  }

  /** The stop finished. */
  stopped(): void {
    this.#state = "stopped";
  }
}
