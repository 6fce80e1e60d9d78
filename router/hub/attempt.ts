/**
 * A job attempt as the Router's scheduler holds it, waiting or running, and the
 * scheduler's options.
 *
 * @module
 */
import type { JobPlan } from "../../core/protocol/mod.ts";
import type { JsonObject } from "../../core/types.ts";
import type { FunctionLimit } from "./limits.ts";

/** One attempt of one job. */
export interface Attempt {
  readonly pipelineId: string;
  readonly jobId: string;
  readonly fn: string;
  readonly input: JsonObject;
  readonly attempt: number;
  /** Its pipeline's priority, 0 to 9. */
  readonly priority: number;
  /** What the Router does by itself when it succeeds (from its pipeliner). */
  readonly plan?: JobPlan;
  /** Set for an item of a `map` job (whose `jobId` is then `<map job>[<index>]`). */
  readonly item?: MapItemRef;
}

/** Which item of which `map` job an attempt runs. */
export interface MapItemRef {
  readonly jobId: string;
  readonly index: number;
}

/** An attempt on a broker. */
export interface RunningAttempt extends Attempt {
  readonly broker: string;
  readonly startedAt: number;
  /** Set when the pipeline was cancelled: the result will be dropped. */
  cancelled?: boolean;
  /** The limit it counts toward, and under which key. */
  limit?: FunctionLimit;
  limitKey?: string;
}

/** The key of a job within the cluster. */
export function executionKey(pipelineId: string, jobId: string): string {
  return `${pipelineId}\u0000${jobId}`;
}

/** Options of the {@linkcode Scheduler}. */
export interface SchedulerOptions {
  /** A queued attempt gains a priority level per this many ms waited. Default 10 s. */
  agingMs?: number;
  /** Runs `task` later as a batch of its own (which dispatches): a rate window opening. */
  later?: (ms: number, task: () => void) => void;
  /** Told of each start of a rate-limited function, to keep it across a restart. */
  noteStart?: (fn: string, at: number) => void;
  /** The clock, epoch ms. Default `Date.now`. */
  clock?: () => number;
}

/** The default of {@linkcode SchedulerOptions.agingMs}. */
export const DEFAULT_AGING_MS = 10_000;
