/**
 * The jobs of a worker host and its warm Web Workers, one per function: jobs wait
 * in arrival order and run one at a time, each in its function's warm worker (made
 * or reloaded when missing, dead or out of date); runs of one function go to its
 * worker back to back, with no round trip per job. The host side of the chain
 * follower lives here too: a job's followers run right after it, in this host,
 * when it succeeds (those of the same function inside the worker itself), and never
 * begin when it does not. One per host process.
 *
 * @module
 */
import { mergeDocument, restrictInput } from "../../core/dag/mod.ts";
import { toErrorData } from "../../core/errors.ts";
import type { ErrorData, JsonObject } from "../../core/types.ts";
import { functionLoadError, jobCancelled, jobSkipped } from "../messages/errors.ts";
import type { QueuedFollower, QueuedJob } from "./job.ts";
import { type LogSink, SandboxWorker } from "./sandbox_worker.ts";
import { DEFAULT_WORKER_LIMITS, type WorkerLimits } from "../messages/worker.ts";

/** How long a module's top-level code may take. */
export const LOAD_TIMEOUT_MS = 10_000;
/** Warm workers kept per host; the least recently used goes first. */
const MAX_WARM_WORKERS = 16;

export const ENTRY_URL = new URL("../worker/entry.ts", import.meta.url).href;

/** What the sandbox tells its host. */
export interface SandboxHooks {
  /** How a job ended. */
  answer(
    id: number,
    result: { ok: true; output: JsonObject } | { ok: false; error: ErrorData },
  ): void;
  /** A job was handed to its worker now (its module load counts: a crash there is its own). */
  handed(id: number): void;
  /** A log record of job `id`, or of none. */
  log: LogSink;
  /** Something that cannot happen did: the host must end. */
  fatal(message: string): never;
}

let hooks: SandboxHooks | undefined;
/** Caps on what workers send back (the broker's flags). */
let limits: WorkerLimits = DEFAULT_WORKER_LIMITS;

/** Sets the caps of the workers made from now on; call before the first job. */
export function setWorkerLimits(caps: WorkerLimits): void {
  limits = caps;
}

/** The caps of this host's workers. */
export function workerLimits(): WorkerLimits {
  return limits;
}

/** Connects the sandbox to its host; call once, before the first job. */
export function connectSandbox(host: SandboxHooks): void {
  hooks = host;
}

function fail(id: number, error: ErrorData): void {
  hooks!.answer(id, { ok: false, error });
}

function succeed(id: number, output: JsonObject): void {
  hooks!.answer(id, { ok: true, output });
}

const onLog: LogSink = (id, record) => hooks!.log(id, record);

/** Warm workers by function, least recently used first. */
const warm = new Map<string, SandboxWorker>();
/** Functions forgotten while they had jobs; dropped when those end. */
const forgotten = new Set<string>();
/** Runs not handed to a worker yet, in arrival order. */
const waiting: QueuedJob[] = [];
/** Runs handed to a worker (or loading one), by request id. */
const started = new Map<number, { fn: string; cancel: AbortController }>();
/** Followers not begun yet, by request id, with whether they were cancelled meanwhile. */
const followers = new Map<number, { jobId: string; cancelled: boolean }>();
/** A run handed to a worker whose follower comes next: nothing else is handed until it ends. */
let barrier: number | undefined;
/** The worker the started runs are on; runs of another function wait until it is done. */
let active: SandboxWorker | undefined;
/** A worker is being loaded for the first waiting run. */
let loading = false;
/**
 * Hands waiting runs to their function's warm worker, in order, as many as are
 * waiting: the worker runs them back to back. One function's worker at a time, so
 * the host still runs one job at a time.
 */
function pump(): void {
  while (!loading && barrier === undefined && waiting.length > 0) {
    const request = waiting[0]!;
    const worker = warm.get(request.fn);
    const ready = worker && fits(worker, request);
    // Another function (or another version of this one) waits until that worker is done.
    if (active && active.queued > 0 && (worker !== active || !ready)) return;
    waiting.shift();
    if (ready) {
      hand(request, worker);
      continue;
    }
    loading = true;
    const cancel = new AbortController();
    started.set(request.id, { fn: request.fn, cancel });
    hooks!.handed(request.id); // Loading its module counts: a crash there is this job's.
    warmWorker(request, cancel.signal).then((loaded) => {
      loading = false;
      started.delete(request.id);
      if (loaded.ok && !cancel.signal.aborted) hand(request, loaded.worker);
      else {
        fail(request.id, loaded.ok ? jobCancelled(request.jobId) : loaded.error);
        skip(request.then);
      }
      pump();
    }).catch((error) => hooks!.fatal(`Unexpected error: ${error?.stack ?? error}`));
    return;
  }
}

let pumpScheduled = false;

/** Pumps once, after the callbacks already queued in this turn. */
function schedulePump(): void {
  if (pumpScheduled) return;
  pumpScheduled = true;
  queueMicrotask(() => {
    pumpScheduled = false;
    pump();
  });
}

/** Whether a warm worker can take this run: alive, same module version and permissions. */
function fits(
  worker: SandboxWorker,
  request: Pick<QueuedJob, "version" | "permissions">,
): boolean {
  return !worker.dead && !(worker.oneJob && worker.used) && worker.version === request.version &&
    worker.permissionsKey === JSON.stringify(request.permissions);
}

/**
 * Gives one run to a worker, with the followers of the same function that come right
 * after it (the worker starts each the moment the one before succeeds, with no round
 * trip through the host); answers the broker as each ends. A follower of another
 * function goes first in line when the last of them succeeds.
 */
function hand(request: QueuedJob, worker: SandboxWorker): void {
  const inWorker: QueuedFollower[] = [];
  let rest = request.then;
  for (; rest && rest.fn === request.fn && fits(worker, rest); rest = rest.then) {
    inWorker.push(rest);
  }
  const steps = [request, ...inWorker].map((step) => {
    const cancel = new AbortController();
    // A follower cancelled before now is stopped in the worker before it begins.
    if (followers.get(step.id)?.cancelled) cancel.abort();
    followers.delete(step.id);
    started.set(step.id, { fn: step.fn, cancel });
    return { step, cancel };
  });
  for (const { step } of steps) hooks!.handed(step.id);
  const last = steps[steps.length - 1]!.step;
  if (rest) barrier = last.id;
  active = worker;
  warm.delete(request.fn); // Re-insert: most recently used last.
  warm.set(request.fn, worker);
  const { fn, input, pipelineId, document } = request;
  const results = worker.runChain(
    request,
    inWorker,
    steps.map(({ cancel }) => cancel.signal),
  );
  // The document before each step, kept only for a follower of another function.
  let before = rest ? (document ?? input) : undefined;
  results.forEach((promise, at) =>
    promise.then((result) => {
      const { step } = steps[at]!;
      started.delete(step.id);
      if (barrier === step.id) barrier = undefined;
      if (result.ok) {
        succeed(step.id, result.output);
        if (rest && step === last) follow(pipelineId, before!, rest, result.output);
        else if (before) before = mergeDocument(mergeDocument({}, before), result.output);
      } else if (result.notStarted) {
        // Its worker died under the job before it: run it again, in its place in line.
        // Its followers come back with it; until then they are followers again.
        if (at === 0) {
          waiting.push(request);
          waiting.sort((a, b) => a.id - b.id);
        } else {
          followers.set(step.id, {
            jobId: step.jobId,
            cancelled: steps[at]!.cancel.signal.aborted,
          });
        }
      } else {
        fail(step.id, result.error);
        if (step === last) skip(rest);
      }
      if (worker.queued === 0) {
        if (active === worker) active = undefined;
        if (forgotten.delete(fn) || worker.oneJob) drop(fn, worker);
      }
      // Later: when a worker dies, the runs behind the failed one come back in their own
      // callbacks, and must be in line again before anything else starts.
      schedulePump();
    })
  );
}

/**
 * Puts a succeeded run's follower first in line, with its input from that run's
 * document (`before`, the document it ran on) merged with its output.
 */
function follow(
  pipelineId: string,
  before: JsonObject,
  next: QueuedFollower,
  output: JsonObject,
): void {
  const state = followers.get(next.id);
  followers.delete(next.id);
  if (state?.cancelled) {
    fail(next.id, jobCancelled(next.jobId));
    return skip(next.then);
  }
  const document = mergeDocument(mergeDocument({}, before), output);
  const input = restrictInput(document, next.requires);
  const { requires: _, then, ...fields } = next;
  waiting.unshift({
    ...fields,
    input,
    pipelineId,
    ...(input === document ? {} : { document }),
    ...(then ? { then } : {}),
  });
}

/** Answers the followers of a run that did not succeed: they never begin. */
function skip(next: QueuedFollower | undefined): void {
  for (; next; next = next.then) {
    followers.delete(next.id);
    fail(next.id, jobSkipped(next.jobId));
  }
}

/** The function's warm worker, created and loaded when missing, dead or out of date. */
async function warmWorker(
  request: QueuedJob,
  cancel: AbortSignal,
): Promise<{ ok: true; worker: SandboxWorker } | { ok: false; error: ErrorData }> {
  drop(request.fn);
  let worker: SandboxWorker;
  try {
    worker = new SandboxWorker(
      ENTRY_URL,
      request.fn,
      request.version,
      request.permissions,
      onLog,
      limits,
    );
  } catch (error) {
    return { ok: false, error: toErrorData(error, false) };
  }
  const loaded = await worker.load(request.url, request.id, LOAD_TIMEOUT_MS, cancel);
  if (!loaded.ok || !loaded.description.hasDefault || loaded.description.problems.length > 0) {
    worker.terminate();
    return {
      ok: false,
      error: loaded.ok ? unusable(request.fn, loaded.description.problems) : loaded.error,
    };
  }
  worker.oneJob = loaded.description.config.isolation === "job";
  warm.set(request.fn, worker);
  for (const [fn, idle] of warm) {
    if (warm.size <= MAX_WARM_WORKERS) break;
    if (fn !== request.fn && idle.queued === 0) drop(fn, idle);
  }
  return { ok: true, worker };
}

function unusable(fn: string, problems: string[]): ErrorData {
  const message = problems.length > 0
    ? `Function "${fn}" has an invalid config: ${problems.join("; ")}`
    : `Function "${fn}" has no default export function`;
  return functionLoadError(message);
}

function drop(fn: string, worker = warm.get(fn)): void {
  worker?.terminate();
  // Only the function's current worker leaves the table (a one-job worker may
  // have been replaced already).
  if (warm.get(fn) === worker) warm.delete(fn);
}

/** Takes a run and its followers, in arrival order. */
export function accept(request: QueuedJob): void {
  for (let next = request.then; next; next = next.then) {
    followers.set(next.id, { jobId: next.jobId, cancelled: false });
  }
  waiting.push(request);
  pump();
}

/** Stops a run: a follower before it begins, a waiting run at once, a started one in its worker. */
export function cancel(id: number): void {
  const at = waiting.findIndex((run) => run.id === id);
  const follower = followers.get(id);
  if (follower) follower.cancelled = true;
  else if (at >= 0) {
    const [run] = waiting.splice(at, 1);
    fail(id, jobCancelled(run!.jobId));
    skip(run!.then);
  } else started.get(id)?.cancel.abort();
}

/** Whether no job is waiting, loading or on a worker. */
export function idle(): boolean {
  return waiting.length === 0 && started.size === 0 && !loading;
}

/** Drops the warm worker of `fn` (changed or removed), once its jobs are done. */
export function forget(fn: string): void {
  if ([...started.values()].some((run) => run.fn === fn)) forgotten.add(fn);
  else drop(fn);
}

/** Stops every warm worker at once (the host is ending). */
export function terminateAll(): void {
  for (const worker of warm.values()) worker.terminate();
}
