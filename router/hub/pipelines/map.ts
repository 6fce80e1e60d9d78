/**
 * `map` jobs: a job that runs its function once per element of a list of its input.
 * Each element is an item with attempts of its own (retries, timeouts, crashes and
 * lost brokers counted per item), queued like any job so items spread over the
 * cluster, at most `mapConcurrency` (or {@linkcode DEFAULT_WINDOW}) at once. Item
 * outcomes are stored as they come (`map_items`), so a Router restart or a new
 * pipeliner resumes the map without running a finished item again. The job succeeds
 * with `{ <job id>: [output_0, ...] }` in the order of the items once all have; the
 * first item that fails for good fails it and stops the others.
 *
 * @module
 */
import { DEFAULT_LIMITS, mergeDocument } from "../../../core/dag/mod.ts";
import { errorData, ErrorName } from "../../../core/errors.ts";
import type {
  JobOutcome,
  JobRecord,
  MapItemRecord,
  MapItemStatus,
  MapSummary,
} from "../../../core/protocol/mod.ts";
import type { ErrorData, JsonObject, JsonValue } from "../../../core/types.ts";
import type { BrokerEntry } from "../registry.ts";
import { type Attempt, executionKey, type RunningAttempt } from "../scheduler.ts";
import {
  backoffMs,
  DEFAULT_MAX_CRASHES,
  isCrash,
  nextAttempt,
  poisonError,
  retried,
} from "./attempts.ts";
import { type Active, type Pipelines, started } from "./context.ts";
import { result } from "./jobs.ts";

/** Items queued or running at once when the job sets no `mapConcurrency`. */
export const DEFAULT_WINDOW = 1000;

/** A `map` job under way. */
export interface MapRun {
  readonly jobId: string;
  readonly fn: string;
  /** The job's input: each item's input is it plus `item` and `index`. */
  readonly base: JsonObject;
  readonly list: readonly JsonValue[];
  /** Every item, by index (live: the summary and the store read them). */
  readonly items: MapItemRecord[];
  /** Items started at once, at most. */
  readonly window: number;
  /** Items started and not ended (queued, running, waiting out a back-off). */
  inFlight: number;
  /** The next index to look at for an item to start. */
  next: number;
  /** The job record's summary, counted as items move. */
  readonly summary: MapSummary;
}

/** The job id an item runs under: the map job's id and its index, `fetch[3]`. */
export function itemJobId(jobId: string, index: number): string {
  return `${jobId}[${index}]`;
}

/** Starts (or, after a restart, resumes) a pending map job over `input[key]`. */
export function startMap(
  ctx: Pipelines,
  active: Active,
  job: JobRecord,
  key: string,
  concurrency: number | undefined,
  input: JsonObject,
): void {
  const list = Object.hasOwn(input, key) ? input[key] : undefined;
  const max = ctx.options.limits?.maxMapItems ?? DEFAULT_LIMITS.maxMapItems;
  started(ctx, active);
  if (!Array.isArray(list) || list.length > max) {
    const why = list === undefined
      ? "which its input does not have"
      : !Array.isArray(list)
      ? `which is ${
        typeof list === "object" ? (list === null ? "null" : "an object") : `a ${typeof list}`
      }, not a list`
      : `a list of ${list.length} items; the limit is ${max}`;
    job.startedAt ??= Date.now();
    return failMap(
      ctx,
      active,
      job,
      errorData(ErrorName.MapInput, `Job "${job.jobId}" maps over "${key}", ${why}`, false),
    );
  }
  const items = new Array<MapItemRecord>(list.length);
  for (const stored of ctx.store.items.load(active.record.id, job.jobId)) {
    if (stored.index >= list.length) continue;
    // An attempt in flight at a restart runs again (at-least-once); a finished one does not.
    if (stored.status === "running") stored.status = "pending";
    items[stored.index] = stored;
  }
  const summary: MapSummary = {
    items: list.length,
    pending: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
  };
  for (let i = 0; i < list.length; i++) {
    items[i] ??= { index: i, status: "pending", attempts: 0 };
    summary[items[i]!.status]++;
  }
  const run: MapRun = {
    jobId: job.jobId,
    fn: job.fn,
    base: input,
    list,
    items,
    window: Math.min(concurrency ?? DEFAULT_WINDOW, DEFAULT_WINDOW),
    inFlight: 0,
    next: 0,
    summary,
  };
  job.status = "running";
  job.startedAt ??= Date.now();
  job.map = summary;
  ctx.store.saveJob(active.record, job);
  (active.maps ??= new Map()).set(job.jobId, run);
  pump(ctx, active, run);
  finishIfDone(ctx, active, job, run);
}

/** Starts items until the window is full or none is left. */
function pump(ctx: Pipelines, active: Active, run: MapRun): void {
  while (run.inFlight < run.window && run.next < run.items.length) {
    const item = run.items[run.next++]!;
    if (item.status !== "pending") continue;
    run.inFlight++;
    queueItem(ctx, active, run, item);
  }
}

/** Queues an item's next attempt, or when it waits out a back-off, at its `retryAt`. */
function queueItem(ctx: Pipelines, active: Active, run: MapRun, item: MapItemRecord): void {
  // Not before its back-off, nor before its pipeline's `runAt`.
  const wait = Math.max(item.retryAt ?? 0, active.record.runAt ?? 0) - Date.now();
  if (wait <= 0) return ctx.scheduler.enqueue(itemAttempt(active, run, item));
  ctx.later(wait, () => {
    if (active.maps?.get(run.jobId) !== run || ctx.active.get(active.record.id) !== active) return;
    if (item.status === "pending") queueItem(ctx, active, run, item);
  });
}

function itemAttempt(active: Active, run: MapRun, item: MapItemRecord): Attempt {
  return {
    pipelineId: active.record.id,
    jobId: itemJobId(run.jobId, item.index),
    fn: run.fn,
    input: { ...run.base, item: run.list[item.index]!, index: item.index },
    attempt: nextAttempt(item),
    priority: active.record.spec.priority ?? 0,
    item: { jobId: run.jobId, index: item.index },
  };
}

function runOf(
  ctx: Pipelines,
  attempt: Attempt,
): { active: Active; run: MapRun; item: MapItemRecord } | undefined {
  const active = ctx.active.get(attempt.pipelineId);
  const run = attempt.item && active?.maps?.get(attempt.item.jobId);
  const item = run?.items[attempt.item!.index];
  return active && run && item ? { active, run, item } : undefined;
}

function move(run: MapRun, item: MapItemRecord, to: MapItemStatus): void {
  run.summary[item.status]--;
  run.summary[to]++;
  item.status = to;
}

/** An item's attempt went to a broker; true when it must run alone (its last crash was shared). */
export function itemDispatched(ctx: Pipelines, attempt: Attempt, broker: BrokerEntry): boolean {
  const found = runOf(ctx, attempt);
  if (!found || found.item.status !== "pending") return false;
  const { active, run, item } = found;
  move(run, item, "running");
  item.attempts += 1;
  item.lastAttempt = Math.max(item.lastAttempt ?? 0, attempt.attempt);
  item.broker = broker.id;
  item.startedAt ??= Date.now();
  ctx.store.items.save(active.record.id, run.jobId, item);
  return item.attemptErrors?.at(-1)?.shared === true;
}

/** A broker reported an item's attempt (the scheduler checked it is the one running). */
export function itemDone(ctx: Pipelines, running: RunningAttempt, outcome: JobOutcome): void {
  const found = runOf(ctx, running);
  if (!found || running.cancelled || found.item.status !== "running") return;
  const { active, run, item } = found;
  item.durationMs = outcome.durationMs;
  if (outcome.ok) {
    item.output = outcome.output;
    item.finishedAt = Date.now();
    move(run, item, "succeeded");
    ctx.store.items.save(active.record.id, run.jobId, item);
    run.inFlight--;
    pump(ctx, active, run);
    const job = active.jobs.get(run.jobId);
    if (job) finishIfDone(ctx, active, job, run);
    return;
  }
  item.error = outcome.error;
  item.attemptErrors = [...(item.attemptErrors ?? []), outcome.error];
  const poison = isCrash(outcome.error) && poisonOf(ctx, run, item);
  if (poison) return itemFailed(ctx, active, run, item, poison);
  const retries = ctx.registry.config(run.fn)?.retries ?? 0;
  if (!retried(outcome.error, item.attempts, retries)) {
    return itemFailed(ctx, active, run, item, outcome.error);
  }
  const { retryBaseMs, retryMaxMs } = ctx.options;
  item.retryAt = Date.now() + backoffMs(item.attempts, retryBaseMs, retryMaxMs, Math.random());
  move(run, item, "pending");
  ctx.store.items.save(active.record.id, run.jobId, item);
  ctx.log.info(
    "Retrying item {index} of job {jobId} of {pipelineId} (attempt {attempt}: {error})",
    {
      index: item.index,
      jobId: run.jobId,
      pipelineId: active.record.id,
      attempt: item.attempts,
      error: outcome.error.message,
    },
  );
  queueItem(ctx, active, run, item);
}

/**
 * An item's broker or worker host is gone: `lost` (the broker's error) counts toward
 * poison; without it the item never began, and runs again without a run counted.
 */
export function itemLost(ctx: Pipelines, running: RunningAttempt, lost?: ErrorData): void {
  const found = runOf(ctx, running);
  if (!found || running.cancelled || found.item.status !== "running") return;
  const { active, run, item } = found;
  if (lost) {
    item.error = lost;
    item.attemptErrors = [...(item.attemptErrors ?? []), lost];
    const poison = poisonOf(ctx, run, item);
    if (poison) return itemFailed(ctx, active, run, item, poison);
  } else item.attempts = Math.max(0, item.attempts - 1);
  move(run, item, "pending");
  ctx.store.items.save(active.record.id, run.jobId, item);
  ctx.scheduler.enqueue(itemAttempt(active, run, item));
}

function poisonOf(ctx: Pipelines, run: MapRun, item: MapItemRecord): ErrorData | undefined {
  const maxCrashes = ctx.options.maxCrashes ?? DEFAULT_MAX_CRASHES;
  return poisonError(itemJobId(run.jobId, item.index), item.attemptErrors ?? [], maxCrashes);
}

/** An item failed for good: so does its job, and the other items stop. */
function itemFailed(
  ctx: Pipelines,
  active: Active,
  run: MapRun,
  item: MapItemRecord,
  error: ErrorData,
): void {
  item.error = error;
  item.finishedAt = Date.now();
  move(run, item, "failed");
  ctx.store.items.save(active.record.id, run.jobId, item);
  stopMap(ctx, active, run);
  const job = active.jobs.get(run.jobId);
  if (!job) return;
  failMap(ctx, active, job, { ...error, message: `Item ${item.index} failed: ${error.message}` });
}

function failMap(ctx: Pipelines, active: Active, job: JobRecord, error: ErrorData): void {
  active.maps?.delete(job.jobId);
  job.status = "failed";
  job.error = error;
  job.finishedAt = Date.now();
  job.durationMs = job.finishedAt - (job.startedAt ?? job.finishedAt);
  ctx.store.saveJob(active.record, job);
  result(ctx, active, job, { ok: false, error, durationMs: job.durationMs });
}

function finishIfDone(ctx: Pipelines, active: Active, job: JobRecord, run: MapRun): void {
  if (run.summary.succeeded !== run.items.length || job.status !== "running") return;
  active.maps?.delete(job.jobId);
  const output = outputOf(run.jobId, run.items);
  job.status = "succeeded";
  job.finishedAt = Date.now();
  job.durationMs = job.finishedAt - (job.startedAt ?? job.finishedAt);
  mergeDocument(active.record.document, output);
  ctx.store.saveJob(active.record, job);
  result(ctx, active, job, { ok: true, output, durationMs: job.durationMs });
}

function outputOf(jobId: string, items: readonly MapItemRecord[]): JsonObject {
  return { [jobId]: items.map((item) => item.output ?? {}) };
}

/** The outcome of a map job that succeeded, from its stored items (its record holds none). */
export function mapOutcome(ctx: Pipelines, active: Active, job: JobRecord): JobOutcome {
  const items = ctx.store.items.load(active.record.id, job.jobId);
  return { ok: true, output: outputOf(job.jobId, items), durationMs: job.durationMs ?? 0 };
}

/**
 * Stops a map's items: those queued are dropped, those running are called off at
 * their brokers (their results will be dropped), and every unfinished one is cancelled.
 */
export function stopMap(ctx: Pipelines, active: Active, run: MapRun): void {
  const pipelineId = active.record.id;
  active.maps?.delete(run.jobId);
  ctx.scheduler.dropItems(pipelineId, run.jobId);
  for (const item of run.items) {
    if (item.status === "running") {
      const jobId = itemJobId(run.jobId, item.index);
      const running = ctx.scheduler.running.get(executionKey(pipelineId, jobId));
      const broker = running && ctx.registry.brokers.get(running.broker);
      if (running) running.cancelled = true;
      if (broker) ctx.outbox.toPeer(broker.address, { type: "job-cancel", pipelineId, jobId });
      move(run, item, "cancelled");
      ctx.store.items.save(pipelineId, run.jobId, item);
    } else if (item.status === "pending") move(run, item, "cancelled");
  }
}

/** Stops every map of a pipeline that ends early (cancelled, or past its deadline). */
export function stopMaps(ctx: Pipelines, active: Active): void {
  for (const run of [...(active.maps?.values() ?? [])]) stopMap(ctx, active, run);
}

/** One page of a map job's items. */
export interface ItemPage {
  /** Items in the job. */
  total: number;
  items: MapItemRecord[];
  /** The index to ask from for the next page; absent on the last. */
  next?: number;
}

/** Items of a map job from `offset`, at most `limit`: live while it runs, else as stored. */
export function itemPage(
  ctx: Pipelines,
  pipelineId: string,
  job: JobRecord,
  offset: number,
  limit: number,
): ItemPage {
  const run = ctx.active.get(pipelineId)?.maps?.get(job.jobId);
  const total = run?.items.length ?? job.map?.items ?? 0;
  const end = Math.min(total, offset + limit);
  let items: MapItemRecord[];
  if (run) items = run.items.slice(offset, end);
  else {
    // An item that never started has no row: pending while its job may still start it.
    const unstarted: MapItemStatus = job.status === "pending" || job.status === "running"
      ? "pending"
      : "cancelled";
    const stored = new Map(
      ctx.store.items.page(pipelineId, job.jobId, offset, limit).map((i) => [i.index, i]),
    );
    items = [];
    for (let i = offset; i < end; i++) {
      items.push(stored.get(i) ?? { index: i, status: unstarted, attempts: 0 });
    }
  }
  return end < total ? { total, items, next: end } : { total, items };
}
