/**
 * Per-function rates of finished attempts over the last five minutes, for the
 * dashboard's functions panel: attempts per minute and the share that failed. Kept
 * in 10 s buckets per function as attempts end, so reading them costs a few dozen
 * additions per function, never a look at the store.
 *
 * @module
 */
import type { AttemptOutcome } from "../hub/pipelines/attempts.ts";

/** Width of one bucket, ms. */
const BUCKET_MS = 10_000;
/** Buckets kept: five minutes. */
const BUCKETS = 30;
/** The window the rates are over, ms. */
export const WINDOW_MS = BUCKET_MS * BUCKETS;

/** One function's attempts in the window. */
export interface FunctionRate {
  /** Attempts that ended, per minute. */
  perMinute: number;
  /** Of those, the share that did not succeed (0 to 1), or 0 when none ended. */
  failureRate: number;
  succeeded: number;
  failed: number;
}

interface Ring {
  /** The bucket number (epoch ms / BUCKET_MS) each slot holds. */
  at: number[];
  ok: number[];
  bad: number[];
}

/** Attempts per function in a sliding window. */
export class FunctionRates {
  readonly #rings = new Map<string, Ring>();

  /** Counts one attempt that ended. */
  record(fn: string, outcome: AttemptOutcome, now = Date.now()): void {
    let ring = this.#rings.get(fn);
    if (!ring) {
      const zeros = () => new Array<number>(BUCKETS).fill(0);
      ring = { at: new Array<number>(BUCKETS).fill(-BUCKETS), ok: zeros(), bad: zeros() };
      this.#rings.set(fn, ring);
    }
    const bucket = Math.floor(now / BUCKET_MS), slot = bucket % BUCKETS;
    if (ring.at[slot] !== bucket) {
      ring.at[slot] = bucket;
      ring.ok[slot] = 0;
      ring.bad[slot] = 0;
    }
    if (outcome === "succeeded") ring.ok[slot]!++;
    else ring.bad[slot]!++;
  }

  /** Each function that had an attempt end in the window, with its rates. */
  read(now = Date.now()): Map<string, FunctionRate> {
    const out = new Map<string, FunctionRate>();
    const newest = Math.floor(now / BUCKET_MS);
    for (const [fn, ring] of this.#rings) {
      let succeeded = 0, failed = 0;
      for (let slot = 0; slot < BUCKETS; slot++) {
        if (newest - ring.at[slot]! >= BUCKETS) continue; // Older than the window.
        succeeded += ring.ok[slot]!;
        failed += ring.bad[slot]!;
      }
      const total = succeeded + failed;
      if (total === 0) continue;
      out.set(fn, {
        perMinute: total / (WINDOW_MS / 60_000),
        failureRate: failed / total,
        succeeded,
        failed,
      });
    }
    return out;
  }
}
