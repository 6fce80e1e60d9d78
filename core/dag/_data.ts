/**
 * What is wrong with a pipeline's `data`: values JSON cannot carry, and its size.
 * The client checks JavaScript values here before they are sent.
 *
 * @module
 */

/** Values that are not JSON reported from `data`, at most. */
const MAX_DATA_PROBLEMS = 5;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** One value met in the walk over `data`; its path is built only if it has a problem. */
interface Visit {
  value: unknown;
  depth: number;
  parent: Visit | undefined;
  key: string | number;
}

/** The path of a visited value, e.g. `data.list[1]` (long keys cut, so the text stays short). */
function pathOf(visit: Visit, field: string): string {
  const parts: string[] = [];
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent) {
    const key = at.key;
    if (typeof key === "number") parts.push(`[${key}]`);
    else if (/^[A-Za-z_$][\w$]*$/.test(key) && key.length <= 40) parts.push(`.${key}`);
    else parts.push(`[${quote(key.length > 40 ? `${key.slice(0, 40)}...` : key)}]`);
  }
  return field + parts.reverse().join("");
}

/** Limits on `data`. */
export interface DataLimits {
  /** Bytes of `data` as UTF-8 JSON. */
  maxBytes: number;
  /** Levels of nesting: `data` itself is level 1. */
  maxDepth: number;
}

/**
 * `data` must be a JSON object that survives `JSON.stringify` unchanged: the client
 * may hand us a `Date`, `undefined` or a `bigint`, which JSON would drop, alter or
 * throw on far from the call that caused it. It must also stay shallow: a value
 * nested 100,000 deep overflows the stack of whatever copies it later (a Worker's
 * `postMessage`), so the walk here is a loop, never a recursion.
 *
 * @param encodedBytes The size of the encoded message `data` came in, when known (it
 *   came off the wire): `data` is no bigger, so within the limit it is not encoded
 *   again to be measured.
 */
export function dataProblems(
  data: unknown,
  limits: DataLimits,
  encodedBytes?: number,
  field = "data",
): string[] {
  const name = `Field ${quote(field)}`;
  if (!isPlainObject(data)) return [`${name} must be a JSON object`];
  let size: number | undefined;
  if (encodedBytes === undefined) {
    // A JavaScript value: JSON.stringify is what finds cycles and bigints.
    try {
      size = utf8Length(JSON.stringify(data));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return [`${name} cannot be written as JSON: ${reason}`];
    }
  }
  /** A lower bound of the encoded size, summed in the walk: a string is at least its length. */
  let least = 0;
  const problems: string[] = [];
  const stack: Visit[] = [{ value: data, depth: 1, parent: undefined, key: "" }];
  while (stack.length > 0 && problems.length < MAX_DATA_PROBLEMS) {
    const visit = stack.pop()!;
    const value = visit.value;
    if (typeof value === "string") {
      least += value.length + 2; // Its quotes (commas are not counted: a lower bound).
      continue;
    }
    least += typeof value === "object" && value !== null ? 2 : 1;
    if (value === null || typeof value === "boolean") continue;
    if (typeof value === "number" && Number.isFinite(value)) continue;
    const isList = Array.isArray(value);
    if (isList || typeof value === "object") {
      const proto: unknown = isList ? Array.prototype : Object.getPrototypeOf(value);
      if (isList || proto === Object.prototype || proto === null) {
        if (visit.depth > limits.maxDepth) {
          problems.push(
            `${name} is nested deeper than ${limits.maxDepth} levels, at ${pathOf(visit, field)}`,
          );
          return problems;
        }
        const depth = visit.depth + 1;
        if (isList) {
          const list = value as unknown[];
          for (let i = list.length - 1; i >= 0; i--) {
            stack.push({ value: list[i], depth, parent: visit, key: i });
          }
        } else {
          const entries = Object.entries(value as object);
          for (let i = entries.length - 1; i >= 0; i--) {
            const [key, v] = entries[i]!;
            least += key.length + 3; // Its quotes and colon.
            stack.push({ value: v, depth, parent: visit, key });
          }
        }
        continue;
      }
    }
    problems.push(
      `${name} holds a value JSON cannot carry at ${pathOf(visit, field)}: ${describe(value)}`,
    );
  }
  if (problems.length > 0) return problems;
  if (encodedBytes !== undefined && encodedBytes > limits.maxBytes) {
    // A big message: refuse a big `data` by its bound, and only measure one that may fit.
    if (least > limits.maxBytes) {
      return [`${name} is at least ${least} bytes; the limit is ${limits.maxBytes}`];
    }
    size = utf8Length(JSON.stringify(data));
  }
  if (size !== undefined && size > limits.maxBytes) {
    return [`${name} is ${size} bytes; the limit is ${limits.maxBytes}`];
  }
  return [];
}

/** Bytes of `text` as UTF-8, without encoding it. */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // 2 bytes to U+07FF, 3 to U+FFFF; a surrogate pair (2 units) makes 4.
    if (code >= 0x80) bytes += code >= 0x800 && (code < 0xd800 || code > 0xdfff) ? 2 : 1;
  }
  return bytes;
}

export function quote(text: string): string {
  return JSON.stringify(text);
}

export function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function" || typeof value === "symbol") return `a ${typeof value}`;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      return `a ${Object.prototype.toString.call(value).slice(8, -1)}`;
    }
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    return "a value JSON cannot carry";
  }
  return json.length > 40 ? `${json.slice(0, 40)}...` : json;
}
