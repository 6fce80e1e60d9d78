/**
 * The few assertions the tests need (`jsr:@std/assert` is not reachable here).
 *
 * @module
 */

/** Thrown by a failed assertion. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Fails unless `condition` is truthy. */
export function assert(condition: unknown, message = "Assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v instanceof Uint8Array
        ? { bytes: [...v] }
        : v,
  );
}

/** Fails unless `actual` and `expected` are deeply equal (JSON-like values, Uint8Arrays). */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  const a = canonical(actual), e = canonical(expected);
  if (a !== e) {
    throw new AssertionError(
      `Values differ${message ? `: ${message}` : ""}\n  actual:   ${
        a?.slice(0, 2000)
      }\n  expected: ${e?.slice(0, 2000)}`,
    );
  }
}

/** Fails unless `fn` rejects with an error of class `type`; returns that error. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  type: new (...args: never[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    if (!(error instanceof type)) {
      throw new AssertionError(`Expected ${type.name}, got ${String(error)}`);
    }
    if (includes && !error.message.includes(includes)) {
      throw new AssertionError(`Expected a message with "${includes}", got "${error.message}"`);
    }
    return error;
  }
  throw new AssertionError(`Expected ${type.name}, but nothing was thrown`);
}
