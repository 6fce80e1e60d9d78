/**
 * Test helper: the work that the namespace tests put through a cluster on separate
 * hosts: diamonds of `slow` jobs, and the check that each ended right.
 *
 * @module
 */
import { assertEquals } from "./_assert.ts";
import type { PipelineResult, PipelineSpec } from "../mod.ts";

/** `count` diamonds (a -> b, c -> d) of `slow` jobs of `ms` each, numbered from `from`. */
export function slowDiamonds(count: number, ms: number, from = 0): PipelineSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    graph: { a: ["b", "c"], b: "d", c: "d" },
    jobs: { a: "slow", b: "slow", c: "slow", d: "slow" },
    data: { ms, n: from + i },
  }));
}

/** Every pipeline succeeded with its own document, and each of its jobs with its output. */
export function assertDiamondsRight(
  records: PipelineResult[],
  ms: number,
  from: number,
  logs: () => string,
): void {
  records.forEach((record, i) => {
    assertEquals(record.status, "succeeded", `${JSON.stringify(record)}\n${logs()}`);
    assertEquals([record.document.n, record.document.waited], [from + i, ms]);
    for (const job of record.jobs) {
      assertEquals([job.status, job.output?.waited], ["succeeded", ms], JSON.stringify(job));
    }
  });
}

/** Prints a measured figure with the test's output (figures are printed, never asserted). */
export function report(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
}
