/** Benchmark function: one of a fan-out; returns `n + 1` under its own job id. */
import type { FunctionConfig, FunctionContext, JsonObject } from "../../core/types.ts";

export const config: FunctionConfig = { requires: ["n"] };

export default function fan(input: JsonObject, ctx: FunctionContext): JsonObject {
  return { [`fan_${ctx.jobId}`]: Number(input.n) + 1 };
}
