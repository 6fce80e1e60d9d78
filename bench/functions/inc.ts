/** Benchmark function: returns its input plus one. */
import type { FunctionConfig, JsonObject } from "../../core/types.ts";

export const config: FunctionConfig = { requires: ["n"] };

export default function inc(input: JsonObject): JsonObject {
  return { n: Number(input.n) + 1 };
}
