import { assertEquals } from "../../../tests/_assert.ts";
import { ErrorName } from "../../../core/errors.ts";
import type { JobRecord } from "../../../core/protocol/mod.ts";
import type { ErrorData } from "../../../core/types.ts";
import {
  backoffMs,
  isCrash,
  nextAttempt,
  poisonError,
  recordedOutcome,
  retried,
} from "./attempts.ts";

const error = (name: string, retryable = true): ErrorData => ({ name, message: "m", retryable });
// The sandbox marks a crash; a name alone is what a function may throw.
const oom = { ...error(ErrorName.OutOfMemory), crashed: true };
const crashed = { ...error(ErrorName.WorkerCrashed), crashed: true };
const lost = error(ErrorName.BrokerLost);
// A crash of a host it shared with other running jobs: maybe theirs.
const shared = { ...oom, shared: true };
const threw = error("Error");
const namedLikeACrash = error(ErrorName.OutOfMemory);

Deno.test("the next attempt's number follows both the count and the last number offered", () => {
  const cases: Array<[Pick<JobRecord, "attempts" | "lastAttempt">, number]> = [
    [{ attempts: 0 }, 1],
    [{ attempts: 2 }, 3],
    [{ attempts: 1, lastAttempt: 4 }, 5], // Offered to a follower, never run.
    [{ attempts: 5, lastAttempt: 2 }, 6],
  ];
  for (const [job, expected] of cases) {
    assertEquals(nextAttempt(job), expected, JSON.stringify(job));
  }
});

Deno.test("a retry waits the base doubled per attempt, at most the maximum, within 20 % of jitter", () => {
  const cases: Array<[attempt: number, random: number, expected: number]> = [
    [1, 0.5, 200],
    [2, 0.5, 400],
    [3, 0.5, 800],
    [1, 0, 160],
    [1, 0.999999, 240],
    [10, 0.5, 1000], // 200 * 2^9 capped at 1000.
    [30, 0, 800],
  ];
  for (const [attempt, random, expected] of cases) {
    assertEquals(backoffMs(attempt, 200, 1000, random), expected, `attempt ${attempt}, ${random}`);
  }
});

Deno.test("a failure is retried while retries allow, a crash whatever they say, never a final error", () => {
  const cases: Array<[ErrorData, attempts: number, retries: number, expected: boolean]> = [
    [threw, 1, 0, false],
    [threw, 1, 1, true],
    [threw, 2, 1, false],
    [threw, 3, 3, true],
    [error("NonRetryableError", false), 1, 5, false],
    [oom, 4, 0, true],
    [crashed, 1, 0, true],
    [error(ErrorName.OutOfMemory, false), 1, 0, false],
    [namedLikeACrash, 1, 0, false], // A function's own error, whatever its name.
  ];
  for (const [e, attempts, retries, expected] of cases) {
    assertEquals(retried(e, attempts, retries), expected, `${e.name} ${attempts}/${retries}`);
  }
  assertEquals([oom, crashed, lost, threw, namedLikeACrash].map(isCrash), [
    true,
    true,
    false,
    false,
    false,
  ]);
});

Deno.test("a job is poison after max crashes, or five times as many lost brokers", () => {
  const cases: Array<[ErrorData[], max: number, poison: string | undefined]> = [
    [[], 3, undefined],
    [[oom, crashed], 3, undefined],
    [[oom, threw, crashed, oom], 3, "crashed its worker process 3 times"],
    [[oom], 1, "crashed its worker process 1 times"],
    [Array(14).fill(lost), 3, undefined],
    [Array(15).fill(lost), 3, "lost its broker 15 times"],
    [[lost, lost, oom, oom], 2, "crashed its worker process 2 times"],
    [[threw, threw, threw, threw], 3, undefined],
    [[shared, shared, shared, shared], 3, undefined],
    [[shared, oom, shared, oom, oom], 3, "crashed its worker process 3 times"],
  ];
  for (const [errors, max, poison] of cases) {
    const found = poisonError("j", errors, max);
    assertEquals(
      found?.message.split("; ")[0],
      poison && `Job "j" ${poison}`,
      JSON.stringify(errors),
    );
    if (found) {
      assertEquals(found.name, ErrorName.PoisonJob);
      assertEquals(found.retryable, false);
      const last = errors.at(-1)!;
      assertEquals(found.message.endsWith(`(last: ${last.name}: ${last.message})`), true);
    }
  }
});

Deno.test("only a job that ended has an outcome on record", () => {
  const base = { jobId: "a", fn: "a", attempts: 1 } as const;
  const cases: Array<[JobRecord, ReturnType<typeof recordedOutcome>]> = [
    [{ ...base, status: "pending" }, undefined],
    [{ ...base, status: "running" }, undefined],
    [{ ...base, status: "succeeded", output: { x: 1 }, durationMs: 3 }, {
      ok: true,
      output: { x: 1 },
      durationMs: 3,
    }],
    [{ ...base, status: "failed", error: threw }, { ok: false, error: threw, durationMs: 0 }],
    [{ ...base, status: "skipped" }, undefined],
    [{ ...base, status: "cancelled" }, undefined],
  ];
  for (const [job, expected] of cases) assertEquals(recordedOutcome(job), expected, job.status);
});
