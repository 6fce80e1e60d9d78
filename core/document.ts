/**
 * Documents as jobs see them: merging an output into a document, and narrowing a
 * document to the keys a function `requires`. Shared by the DAG step, the Router
 * and the worker hosts.
 *
 * @module
 */
import type { JsonObject, JsonValue } from "./types.ts";

/**
 * Narrows a document to the keys a function `requires`.
 *
 * @param requires The function's `config.requires`; the whole document when not given.
 */
export function restrictInput(document: JsonObject, requires?: readonly string[]): JsonObject {
  if (!requires) return document;
  const out: JsonObject = {};
  for (const key of requires) {
    if (Object.hasOwn(document, key)) putOwn(out, key, document[key]!);
  }
  return out;
}

/**
 * Sets an own property, even `__proto__`: plain assignment would call the
 * prototype setter instead, and a job or key of that name would vanish from JSON.
 */
export function putOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else target[key] = value;
}

/** `Object.assign` for documents, safe for a `__proto__` key (see {@linkcode putOwn}). */
export function mergeDocument(target: JsonObject, source: JsonObject): JsonObject {
  for (const key of Object.keys(source)) putOwn<JsonValue>(target, key, source[key]!);
  return target;
}
