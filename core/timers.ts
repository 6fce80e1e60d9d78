/**
 * Timers for delays longer than `setTimeout` can hold. A delay above 2^31-1 ms
 * (about 24.8 days) overflows the timer's 32-bit field and fires at once, so a
 * pipeline's `deadlineMs` of 30 days would fail it 1 ms after submit. These wait in
 * steps of at most {@linkcode MAX_TIMER_DELAY} instead.
 *
 * @module
 */

/** The longest delay one `setTimeout` holds, in ms (2^31-1). */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** A timer from {@linkcode setLongTimeout}; `clear()` stops it. */
export interface LongTimeout {
  /** Stops the timer; safe to call more than once, and after it fired. */
  clear(): void;
}

/**
 * Calls `callback` once `ms` have passed, for any `ms` (`Infinity` never fires).
 * Short delays cost one plain timer; long ones re-arm at most every 24.8 days.
 */
export function setLongTimeout(callback: () => void, ms: number): LongTimeout {
  const at = performance.now() + Math.max(0, ms);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const left = at - performance.now();
    if (left === Infinity) return;
    if (left > MAX_TIMER_DELAY) {
      timer = setTimeout(arm, MAX_TIMER_DELAY);
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      callback();
    }, Math.max(0, left));
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}

/** `ms` clamped to what one `setTimeout` holds: for timers that look again when they fire. */
export function timerDelay(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_DELAY);
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
