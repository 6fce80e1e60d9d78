/** Benchmark function: the fan-in; sums every `fan_*` value it sees. */
import type { JsonObject } from "../../core/types.ts";

export default function join(input: JsonObject): JsonObject {
  let total = 0, parts = 0;
  for (const [key, value] of Object.entries(input)) {
    if (key.startsWith("fan_")) {
      total += Number(value);
      parts++;
    }
  }
  return { total, parts };
}
