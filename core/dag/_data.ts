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

/**
 * `data` must be a JSON object that survives `JSON.stringify` unchanged: the client
 * may hand us a `Date`, `undefined` or a `bigint`, which JSON would drop, alter or
 * throw on far from the call that caused it.
 */
export function dataProblems(data: unknown, maxBytes: number): string[] {
  if (!isPlainObject(data)) return ['Field "data" must be a JSON object'];
  let text: string;
  try {
    text = JSON.stringify(data);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return [`Field "data" cannot be written as JSON: ${reason}`];
  }
  const problems: string[] = [];
  const stack: Array<[unknown, string]> = [[data, "data"]];
  while (stack.length > 0 && problems.length < MAX_DATA_PROBLEMS) {
    const [value, path] = stack.pop()!;
    if (value === null || typeof value === "string" || typeof value === "boolean") continue;
    if (typeof value === "number" && Number.isFinite(value)) continue;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}[${i}]`]);
      continue;
    }
    if (typeof value === "object") {
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) {
        const entries = Object.entries(value);
        for (let i = entries.length - 1; i >= 0; i--) {
          const [key, v] = entries[i]!;
          stack.push([
            v,
            /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${quote(key)}]`,
          ]);
        }
        continue;
      }
    }
    problems.push(`Field "data" holds a value JSON cannot carry at ${path}: ${describe(value)}`);
  }
  if (problems.length > 0) return problems;
  const size = new TextEncoder().encode(text).length;
  if (size > maxBytes) return [`Field "data" is ${size} bytes; the limit is ${maxBytes}`];
  return [];
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
