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
import { type GateMember, SlotGate } from "./slot_gate.ts";

/** How long a module's top-level code may take. */
export const LOAD_TIMEOUT_MS = 10_000;
/** Warm workers kept per host, shared out among its slots; the least recently used goes first. */
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

/** Whether a warm worker can take this run: alive, same module version and permissions. */
function fits(
  worker: SandboxWorker,
  request: Pick<QueuedJob, "version" | "permissions">,
): boolean {
  return !worker.dead && !(worker.oneJob && worker.used) && worker.version === request.version &&
    worker.permissionsKey === JSON.stringify(request.permissions);
}

function unusable(fn: string, problems: string[]): ErrorData {
  const message = problems.length > 0
    ? `Function "${fn}" has an invalid config: ${problems.join("; ")}`
    : `Function "${fn}" has no default export function`;
  return functionLoadError(message);
}

/** One slot's jobs and warm workers: one job at a time. */
export class Sandbox {
  readonly #hooks: SandboxHooks;
  readonly #onLog: LogSink;
  readonly #gate: SlotGate;
  readonly #member: GateMember = {
    busy: () => this.#started.size > 0 || this.#loading,
    wake: () => this.#schedulePump(),
  };
  /** The run started alone (see `SlotGate`), until it ends. */
  #alone: number | undefined;

  /** A slot's sandbox; `gate` is shared by the slots of one host. */
  constructor(hooks: SandboxHooks, gate: SlotGate = new SlotGate()) {
    this.#hooks = hooks;
    this.#onLog = (id, record) => hooks.log(id, record);
    this.#gate = gate;
    gate.join(this.#member);
  }

  /** A run ended: one started alone lets the other slots go on. */
  #ended(id: number): void {
    if (id === this.#alone) {
      this.#alone = undefined;
      this.#gate.release(this.#member);
    }
    this.#gate.changed();
  }

  #fail(id: number, error: ErrorData): void {
    this.#hooks.answer(id, { ok: false, error });
  }

  #succeed(id: number, output: JsonObject): void {
    this.#hooks.answer(id, { ok: true, output });
  }

  /** Warm workers by function, least recently used first. */
  readonly #warm = new Map<string, SandboxWorker>();
  /** Functions forgotten while they had jobs; dropped when those end. */
  readonly #forgotten = new Set<string>();
  /** Runs not handed to a worker yet, in arrival order. */
  readonly #waiting: QueuedJob[] = [];
  /** Runs handed to a worker (or loading one), by request id. */
  readonly #started = new Map<number, { fn: string; cancel: AbortController }>();
  /** Followers not begun yet, by request id, with whether they were cancelled meanwhile. */
  readonly #followers = new Map<number, { jobId: string; cancelled: boolean }>();
  /** A run handed to a worker whose follower comes next: nothing else is handed until it ends. */
  #barrier: number | undefined;
  /** The worker the started runs are on; runs of another function wait until it is done. */
  #active: SandboxWorker | undefined;
  /** A worker is being loaded for the first waiting run. */
  #loading = false;
  /**
   * Hands waiting runs to their function's warm worker, in order, as many as are
   * waiting: the worker runs them back to back. One function's worker at a time, so
   * the host still runs one job at a time.
   */
  #pump(): void {
    if (this.#alone === undefined && !this.#waiting[0]?.alone) this.#gate.release(this.#member);
    while (!this.#loading && this.#barrier === undefined && this.#waiting.length > 0) {
      const request = this.#waiting[0]!;
      if (!this.#gate.mayStart(this.#member, request.alone === true)) return;
      if (request.alone) this.#alone = request.id;
      const worker = this.#warm.get(request.fn);
      const ready = worker && fits(worker, request);
      // Another function (or another version of this one) waits until that worker is done.
      if (this.#active && this.#active.queued > 0 && (worker !== this.#active || !ready)) return;
      this.#waiting.shift();
      if (ready) {
        this.#hand(request, worker);
        continue;
      }
      this.#loading = true;
      const cancel = new AbortController();
      this.#started.set(request.id, { fn: request.fn, cancel });
      this.#hooks.handed(request.id); // Loading its module counts: a crash there is this job's.
      this.#warmWorker(request, cancel.signal).then((loaded) => {
        this.#loading = false;
        this.#started.delete(request.id);
        if (loaded.ok && !cancel.signal.aborted) this.#hand(request, loaded.worker);
        else {
          this.#fail(request.id, loaded.ok ? jobCancelled(request.jobId) : loaded.error);
          this.#skip(request.then);
          this.#ended(request.id);
        }
        this.#pump();
      }).catch((error) => this.#hooks.fatal(`Unexpected error: ${error?.stack ?? error}`));
      return;
    }
  }

  #pumpScheduled = false;

  /** Pumps once, after the callbacks already queued in this turn. */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /**
   * Gives one run to a worker, with the followers of the same function that come right
   * after it (the worker starts each the moment the one before succeeds, with no round
   * trip through the host); answers the broker as each ends. A follower of another
   * function goes first in line when the last of them succeeds.
   */
  #hand(request: QueuedJob, worker: SandboxWorker): void {
    const inWorker: QueuedFollower[] = [];
    let rest = request.then;
    for (; rest && rest.fn === request.fn && fits(worker, rest); rest = rest.then) {
      inWorker.push(rest);
    }
    const steps = [request, ...inWorker].map((step) => {
      const cancel = new AbortController();
      // A follower cancelled before now is stopped in the worker before it begins.
      if (this.#followers.get(step.id)?.cancelled) cancel.abort();
      this.#followers.delete(step.id);
      this.#started.set(step.id, { fn: step.fn, cancel });
      return { step, cancel };
    });
    for (const { step } of steps) this.#hooks.handed(step.id);
    const last = steps[steps.length - 1]!.step;
    if (rest) this.#barrier = last.id;
    this.#active = worker;
    this.#warm.delete(request.fn); // Re-insert: most recently used last.
    this.#warm.set(request.fn, worker);
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
        this.#started.delete(step.id);
        this.#ended(step.id);
        if (this.#barrier === step.id) this.#barrier = undefined;
        if (result.ok) {
          this.#succeed(step.id, result.output);
          if (rest && step === last) this.#follow(pipelineId, before!, rest, result.output);
          else if (before) before = mergeDocument(mergeDocument({}, before), result.output);
        } else if (result.notStarted) {
          // Its worker died under the job before it: run it again, in its place in line.
          // Its followers come back with it; until then they are followers again.
          if (at === 0) {
            this.#waiting.push(request);
            this.#waiting.sort((a, b) => a.id - b.id);
          } else {
            this.#followers.set(step.id, {
              jobId: step.jobId,
              cancelled: steps[at]!.cancel.signal.aborted,
            });
          }
        } else {
          this.#fail(step.id, result.error);
          if (step === last) this.#skip(rest);
        }
        if (worker.queued === 0) {
          if (this.#active === worker) this.#active = undefined;
          if (this.#forgotten.delete(fn) || worker.oneJob) this.#drop(fn, worker);
        }
        // Later: when a worker dies, the runs behind the failed one come back in their own
        // callbacks, and must be in line again before anything else starts.
        this.#schedulePump();
      })
    );
  }

  /**
   * Puts a succeeded run's follower first in line, with its input from that run's
   * document (`before`, the document it ran on) merged with its output.
   */
  #follow(
    pipelineId: string,
    before: JsonObject,
    next: QueuedFollower,
    output: JsonObject,
  ): void {
    const state = this.#followers.get(next.id);
    this.#followers.delete(next.id);
    if (state?.cancelled) {
      this.#fail(next.id, jobCancelled(next.jobId));
      return this.#skip(next.then);
    }
    const document = mergeDocument(mergeDocument({}, before), output);
    const input = restrictInput(document, next.requires);
    const { requires: _, then, ...fields } = next;
    this.#waiting.unshift({
      ...fields,
      input,
      pipelineId,
      ...(input === document ? {} : { document }),
      ...(then ? { then } : {}),
    });
  }

  /** Answers the followers of a run that did not succeed: they never begin. */
  #skip(next: QueuedFollower | undefined): void {
    for (; next; next = next.then) {
      this.#followers.delete(next.id);
      this.#fail(next.id, jobSkipped(next.jobId));
    }
  }

  /** The function's warm worker, created and loaded when missing, dead or out of date. */
  async #warmWorker(
    request: QueuedJob,
    cancel: AbortSignal,
  ): Promise<{ ok: true; worker: SandboxWorker } | { ok: false; error: ErrorData }> {
    this.#drop(request.fn);
    let worker: SandboxWorker;
    try {
      worker = new SandboxWorker(
        ENTRY_URL,
        request.fn,
        request.version,
        request.permissions,
        this.#onLog,
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
    this.#warm.set(request.fn, worker);
    // The host's slots share its memory, so they share the cap too (each keeps at least one).
    const cap = Math.max(1, Math.floor(MAX_WARM_WORKERS / this.#gate.slots));
    for (const [fn, idle] of this.#warm) {
      if (this.#warm.size <= cap) break;
      if (fn !== request.fn && idle.queued === 0) this.#drop(fn, idle);
    }
    return { ok: true, worker };
  }

  #drop(fn: string, worker = this.#warm.get(fn)): void {
    worker?.terminate();
    // Only the function's current worker leaves the table (a one-job worker may
    // have been replaced already).
    if (this.#warm.get(fn) === worker) this.#warm.delete(fn);
  }

  /** Takes a run and its followers, in arrival order. */
  accept(request: QueuedJob): void {
    for (let next = request.then; next; next = next.then) {
      this.#followers.set(next.id, { jobId: next.jobId, cancelled: false });
    }
    this.#waiting.push(request);
    this.#pump();
  }

  /** Stops a run: a follower before it begins, a waiting run at once, a started one in its worker. */
  cancel(id: number): void {
    const at = this.#waiting.findIndex((run) => run.id === id);
    const follower = this.#followers.get(id);
    if (follower) follower.cancelled = true;
    else if (at >= 0) {
      const [run] = this.#waiting.splice(at, 1);
      this.#fail(id, jobCancelled(run!.jobId));
      this.#skip(run!.then);
    } else this.#started.get(id)?.cancel.abort();
  }

  /** Whether no job is waiting, loading or on a worker. */
  idle(): boolean {
    return this.#waiting.length === 0 && this.#started.size === 0 && !this.#loading;
  }

  /** Drops the warm worker of `fn` (changed or removed), once its jobs are done. */
  forget(fn: string): void {
    if ([...this.#started.values()].some((run) => run.fn === fn)) this.#forgotten.add(fn);
    else this.#drop(fn);
  }

  /** Stops every warm worker at once (the host is ending). */
  terminateAll(): void {
    for (const worker of this.#warm.values()) worker.terminate();
  }
}
