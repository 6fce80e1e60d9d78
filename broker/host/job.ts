/**
 * The host's one shape of a job it took from the Router, queued for the function's
 * warm worker, with the chain of followers it runs right after it.
 *
 * @module
 */
import type { ServedFunction } from "../messages/host.ts";
import type { WorkerPermissions } from "../messages/permissions.ts";
import type { JobFields } from "../messages/worker.ts";
import { restrictInput } from "../../core/dag/mod.ts";
import type { JobFollower, JobRunEvent } from "../../core/protocol/mod.ts";
import type { JsonObject } from "../../core/types.ts";
import type { TraceContext } from "../../core/tracing/mod.ts";

/** A job a host took from the Router, queued for the function's warm worker. */
export interface QueuedJob extends JobFields {
  id: number;
  /** `file:` URL of the module with a `?v=` version, so an edit is re-read. */
  url: string;
  /** Bumped whenever the module changes; a warm worker of another version is replaced. */
  version: number;
  permissions: WorkerPermissions;
  timeoutMs: number;
  /** The document `input` was narrowed from (by the function's `requires`), when it differs. */
  document?: JsonObject;
  /** The job to run right after this one, if this one succeeds. */
  then?: QueuedFollower;
  /** Runs with no other slot of the host running (see `JobRunEvent.alone`). */
  alone?: boolean;
  /** With tracing on: the span of its run in the worker, set when it is handed over. */
  trace?: TraceContext;
}

/**
 * A job that runs in the same host right after the one it follows, before anything
 * sent later, and only if that one succeeded: its input is that job's document
 * merged with its output, narrowed to `requires`. It has its own `id` (its reply,
 * logs and cancel). One whose predecessor did not succeed is answered with an
 * error and never begins.
 */
export interface QueuedFollower
  extends Omit<QueuedJob, "input" | "pipelineId" | "document" | "then" | "alone"> {
  /** Document keys it reads; absent: all. */
  requires?: string[];
  then?: QueuedFollower;
}

/** What a host needs to run one job of `fn`: the request fields shared by runs and followers. */
export function runFieldsOf(
  fn: ServedFunction,
  job: { jobId: string; attempt: number; timeoutMs?: number },
) {
  return {
    fn: fn.name,
    url: fn.url,
    version: fn.version,
    permissions: fn.permissions,
    timeoutMs: job.timeoutMs ?? fn.timeoutMs,
    jobId: job.jobId,
    attempt: job.attempt,
  };
}

/** The key of one attempt of one job: pipeline, job and attempt. */
export function keyOf(pipelineId: string, job: { jobId: string; attempt: number }): string {
  return jobKeyPrefix(pipelineId, job.jobId) + job.attempt;
}

/** What the keys of every attempt of one job start with. */
export function jobKeyPrefix(pipelineId: string, jobId: string): string {
  return `${pipelineId}\u0000${jobId}\u0000`;
}

/** {@linkcode runFieldsOf} with the run's id. */
export function runFields(
  id: number,
  fn: ServedFunction,
  job: { jobId: string; attempt: number },
) {
  return { id, ...runFieldsOf(fn, job) };
}

/** A job of a chain the host takes, with the function it runs. */
export interface ChainStep {
  step: JobFollower;
  fn: ServedFunction;
}

/**
 * The queued job of `job` (run by `head`, with run id `ids[0]`) and the followers of
 * `chain` (ids `ids[1..]`), reading `document` narrowed to the function's `requires`.
 */
export function queuedJob(
  job: JobRunEvent,
  head: ServedFunction,
  chain: readonly ChainStep[],
  ids: readonly number[],
  document: JsonObject,
): QueuedJob {
  let then: QueuedFollower | undefined;
  for (let at = chain.length - 1; at >= 0; at--) {
    const { step, fn } = chain[at]!;
    const requires = fn.config.requires;
    then = {
      ...runFields(ids[at + 1]!, fn, step),
      ...(requires ? { requires: [...requires] } : {}),
      ...(then ? { then } : {}),
    };
  }
  const input = restrictInput(document, head.config.requires);
  return {
    ...runFields(ids[0]!, head, job),
    input,
    pipelineId: job.pipelineId,
    // Followers read the whole document; a job alone needs none.
    ...(input === document || !then ? {} : { document }),
    ...(then ? { then } : {}),
    ...(job.alone ? { alone: true } : {}),
  };
}
