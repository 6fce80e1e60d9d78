import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { PipelineValidationError } from "../errors.ts";
import { runAtOf, validatePipeline } from "./mod.ts";

function problemsOf(extra: Record<string, unknown>): string[] {
  try {
    validatePipeline({ graph: { a: [] }, ...extra });
    return [];
  } catch (error) {
    if (!(error instanceof PipelineValidationError)) throw error;
    return [...error.problems];
  }
}

Deno.test("priority, delayMs and runAt: valid values pass", () => {
  for (
    const extra of [
      { priority: 0 },
      { priority: 9 },
      { delayMs: 0 },
      { delayMs: 1500 },
      { runAt: 1_800_000_000_000 },
      { runAt: "2026-12-03T15:00:00Z" },
      { runAt: "2026-12-03T15:00:00.250+01:00" },
      { priority: 3, delayMs: 10 },
    ]
  ) assertEquals(problemsOf(extra), [], JSON.stringify(extra));
});

Deno.test("priority, delayMs and runAt: every problem is listed at once", () => {
  const problems = problemsOf({ priority: 10, delayMs: -1, runAt: "tomorrow", graph: 1 });
  assertEquals(problems.length, 5, problems.join("\n"));
  for (const field of ["priority", "delayMs", "runAt", "graph"]) {
    assertEquals(problems.some((p) => p.includes(`"${field}"`)), true, field);
  }
});

Deno.test("priority, delayMs and runAt: each bad value is refused", () => {
  for (
    const extra of [
      { priority: -1 },
      { priority: 1.5 },
      { priority: "9" },
      { delayMs: 1.5 },
      { delayMs: 1e15 },
      { runAt: -5 },
      { runAt: "2026-12-03T15:00:00" }, // No offset: a different instant on every machine.
      { runAt: "2026-13-03T15:00:00Z" },
      { runAt: null },
      { delayMs: 5, runAt: 5 },
    ]
  ) assertEquals(problemsOf(extra).length, 1, JSON.stringify(extra));
});

Deno.test("runAtOf: from delayMs and createdAt, or runAt as given", () => {
  assertEquals(runAtOf({ delayMs: 1500 }, 1000), 2500);
  assertEquals(runAtOf({ delayMs: 0 }, 1000), undefined);
  assertEquals(runAtOf({ runAt: 5 }, 1000), 5);
  assertEquals(runAtOf({ runAt: "1970-01-01T00:00:01Z" }, 0), 1000);
  assertEquals(runAtOf({}, 1000), undefined);
  throws(() => validatePipeline({ graph: { a: [] }, runAt: "x" }), PipelineValidationError);
});
