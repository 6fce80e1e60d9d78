/**
 * One sandboxed Web Worker inside a worker host: created with a function's
 * permissions, it loads the module once and runs its jobs. Several jobs may be
 * handed over at once: the worker runs them one at a time, in order, without a
 * round trip per job; each job's clock starts when the one before it ends. A job
 * that overruns its time or is cancelled gets `ctx.signal` aborted, a short grace
 * to settle, and then the worker is terminated (which stops even a `while (true)`);
 * the jobs queued behind it come back as not started, to run elsewhere. A job may
 * bring followers of the same function, which the worker starts the moment the one
 * before succeeds, with no round trip through the host.
 *
 * @module
 */
import { ErrorName } from "../../core/errors.ts";
import { deathResults, type QueuedRun, type RunResult } from "./_runs.ts";
import { type Limits, settle, timeoutError } from "./_limits.ts";
import type { QueuedFollower, QueuedJob } from "./job.ts";
import { TurnBatch } from "../../core/turn_batch.ts";
import { HeadTimer } from "../../core/head_timer.ts";
import type { ErrorData } from "../../core/types.ts";
import type { WorkerPermissions } from "../messages/permissions.ts";
import { jobCancelled, jobSkipped, workerCrashed } from "../messages/errors.ts";
import { assertNever, type DescribeResult, type LogRecord } from "../messages/sandbox.ts";
import { checkedLog, parseOutput, protocolError } from "./json_value.ts";
import {
  capError,
  DEFAULT_WORKER_LIMITS,
  type ErrorReply,
  type OkReply,
  parseWorkerMessage,
  type WorkerConnect,
  type WorkerFollower,
  type WorkerLimits,
  type WorkerLoadRequest,
  type WorkerRequest,
} from "../messages/worker.ts";

/** How long an aborted job may take to settle before its worker is terminated. */
export const ABORT_GRACE_MS = 200;

export type { RunResult } from "./_runs.ts";

/** Receives a log record and the id it belongs to (`null`: no job). */
export type LogSink = (id: number | null, record: LogRecord) => void;

type Reply = OkReply | ErrorReply;
/** What `#call` sends; it adds the id. */
type Outgoing = Omit<WorkerLoadRequest, "id">;

/** A Web Worker running one function module. */
export class SandboxWorker {
  /** The function it runs. */
  readonly fn: string;
  /** The module version it loaded. */
  readonly version: number;
  /** Its permissions, serialized, to tell whether a run needs other ones. */
  readonly permissionsKey: string;
  /**
   * Set for a function whose config says `isolation: "job"`: once a job was handed to
   * it, it takes no other, and is dropped when that one ends.
   */
  oneJob = false;
  /** Whether a job was handed to it. */
  used = false;
  readonly #worker: Worker;
  /** The private channel to the worker's entry; user code in the worker never holds it. */
  readonly #port: MessagePort;
  readonly #limits: WorkerLimits;
  /** Whether user code's own posts on `self` were reported once (they are ignored). */
  #strayReported = false;
  readonly #onLog: LogSink;
  /** Loads waiting for their answer: local id -> resolver, and the outside id of their logs. */
  readonly #pending = new Map<number, { resolve: (reply: Reply) => void; logId: number }>();
  /** Runs handed over, in the order the worker runs them: the first is running. */
  readonly #runs = new Map<number, QueuedRun>();
  #nextId = 1;
  #dead = false;
  /** Times the run at the head: it overran, or its grace after a stop ended. */
  readonly #clock = new HeadTimer(
    () => this.#runs.values().next().value?.deadline,
    () => {
      const head = this.#runs.values().next().value;
      if (!head) return;
      if (head.stop) this.terminate();
      else this.#stop(head, timeoutError(head));
    },
  );
  /** Requests of one turn go in one message (an array when more than one), in order. */
  readonly #outbox = new TurnBatch<WorkerRequest>((requests) => {
    if (this.#dead) return;
    try {
      this.#port.postMessage(requests.length === 1 ? requests[0] : requests);
    } catch {
      // One of them cannot be copied (e.g. an input nested too deep for structured
      // clone's stack): send each alone, and fail only those that cannot go.
      for (const request of requests) this.#postOne(request);
    }
  });

  /** @throws {Deno.errors.NotCapable} when `permissions` exceed the host's. */
  constructor(
    entryUrl: string,
    fn: string,
    version: number,
    permissions: WorkerPermissions,
    onLog: LogSink,
    limits: WorkerLimits = DEFAULT_WORKER_LIMITS,
  ) {
    this.fn = fn;
    this.version = version;
    this.permissionsKey = JSON.stringify(permissions);
    this.#onLog = onLog;
    this.#limits = limits;
    this.#worker = new Worker(entryUrl, { type: "module", name: fn, deno: { permissions } });
    const channel = new MessageChannel();
    this.#port = channel.port1;
    this.#port.onmessage = (event) => this.#receive(event.data);
    this.#port.onmessageerror = () => {
      this.#die(workerCrashed("Unreadable message from worker"));
    };
    const connect: WorkerConnect = { type: "connect", limits };
    this.#worker.postMessage(connect, [channel.port2]);
    // Only user code posts on `self` (the entry answers on the port): never an answer.
    this.#worker.onmessage = () => this.#stray();
    this.#worker.onmessageerror = () => this.#stray();
    this.#worker.onerror = (event) => {
      // Errors the entry could not catch itself, e.g. it failed to start.
      event.preventDefault();
      this.#die(workerCrashed(event.message));
    };
  }

  /** User code posted on `self`: ignored, and said once per worker. */
  #stray(): void {
    if (this.#strayReported) return;
    this.#strayReported = true;
    this.#onLog(null, {
      time: Date.now(),
      level: "warn",
      message: `Function "${this.fn}" posted a message on self: ignored (said once per worker)`,
      fields: { fn: this.fn },
    });
  }

  /** Whether it was terminated or crashed; a dead worker is replaced, never reused. */
  get dead(): boolean {
    return this.#dead;
  }

  /** Imports the module at `url`. */
  async load(
    url: string,
    logId: number,
    timeoutMs: number,
    cancel: AbortSignal,
  ): Promise<DescribeResult> {
    const reply = await this.#call({ type: "load", fn: this.fn, url }, logId, 0, {
      timeoutMs,
      timeoutError: {
        name: ErrorName.FunctionLoad,
        message: `Function "${this.fn}" took longer than ${timeoutMs} ms to load`,
        retryable: true,
      },
      cancel,
      cancelError: { ...jobCancelled(""), message: `Loading function "${this.fn}" was cancelled` },
    });
    if (reply.type === "error") return { ok: false, error: reply.error };
    if (reply.result.kind !== "describe") return protocolError("load", reply.result.kind);
    return { ok: true, description: reply.result.description };
  }

  /**
   * Queues `first` behind the worker's other jobs (its `timeoutMs` counts from when
   * the job before it ends), and `followers` of the same function to run right after
   * it in the worker, each only if the one before it succeeds: a follower's input is
   * the input before it merged with that job's output, narrowed to `requires` (the
   * same for all: one function). `cancels[k]` stops job `k`. One result per job, in
   * order; a follower whose predecessor did not succeed gets a `JobSkippedError`, or
   * `notStarted` when its predecessor did not start. Never throws.
   */
  runChain(
    first: QueuedJob,
    followers: readonly QueuedFollower[],
    cancels: readonly AbortSignal[],
  ): Promise<RunResult>[] {
    if (this.#dead) {
      const error = workerCrashed("Worker is dead");
      return [first, ...followers].map(() =>
        Promise.resolve({ ok: false, error, notStarted: true })
      );
    }
    this.used = true;
    const steps = [first, ...followers].map((step, at) => this.#queue(step, cancels[at]!, at > 0));
    steps.forEach(({ queued }, at) => queued.next = steps[at + 1]?.queued);
    let then: WorkerFollower | undefined;
    for (let at = followers.length - 1; at >= 0; at--) {
      const { jobId, attempt, requires, trace } = followers[at]!;
      then = {
        id: steps[at + 1]!.queued.id,
        jobId,
        attempt,
        ...(requires ? { requires } : {}),
        ...(trace ? { trace } : {}),
        ...(then ? { then } : {}),
      };
    }
    const { fn, input, jobId, pipelineId, attempt } = first;
    this.#post({
      type: "run",
      fn,
      input,
      jobId,
      pipelineId,
      attempt,
      id: steps[0]!.queued.id,
      ...(then ? { then } : {}),
      ...(first.trace ? { trace: first.trace } : {}),
    });
    return steps.map(({ queued, promise, cancel }) => {
      if (this.#runs.keys().next().value === queued.id) this.#startClock(queued);
      // Cancelled already: the worker hears so in the same message, before it could begin.
      if (cancel.aborted) this.#stop(queued, jobCancelled(queued.jobId));
      return promise;
    });
  }

  /** Registers one run (the worker hears of it separately) with its cancel signal. */
  #queue(
    step: QueuedFollower,
    cancel: AbortSignal,
    follows: boolean,
  ): { queued: QueuedRun; promise: Promise<RunResult>; cancel: AbortSignal } {
    const { promise, resolve } = Promise.withResolvers<RunResult>();
    const queued: QueuedRun = {
      id: this.#nextId++,
      logId: step.id,
      timeoutMs: step.timeoutMs,
      jobId: step.jobId,
      resolve,
      logChars: 0,
      ...(follows ? { follows: true } : {}),
    };
    this.#runs.set(queued.id, queued);
    const onAbort = () => this.#stop(queued, jobCancelled(step.jobId));
    if (!cancel.aborted) cancel.addEventListener("abort", onAbort, { once: true });
    return {
      queued,
      promise: promise.finally(() => cancel.removeEventListener("abort", onAbort)),
      cancel,
    };
  }

  /** Jobs handed over and not answered yet. */
  get queued(): number {
    return this.#runs.size;
  }

  /** The job at the head of the queue is running: time it (the grace only, once stopped). */
  #startClock(head: QueuedRun): void {
    head.deadline = performance.now() + (head.stop ? ABORT_GRACE_MS : head.timeoutMs);
    this.#clock.update();
  }

  /** Overran or cancelled: `ctx.signal` aborts (or a queued job is dropped), then the grace. */
  #stop(queued: QueuedRun, reason: ErrorData): void {
    if (queued.stop || !this.#runs.has(queued.id)) return;
    queued.stop = reason;
    this.#post({ type: "abort", id: queued.id, reason });
    if (this.#runs.keys().next().value === queued.id) this.#startClock(queued);
  }

  /** A run's answer: settle it, and start the clock of the next one. */
  #answer(id: number, reply: Reply): void {
    const queued = this.#runs.get(id);
    if (!queued) return;
    const wasHead = this.#runs.keys().next().value === id;
    this.#runs.delete(id);
    let result: RunResult;
    if (queued.stop) result = { ok: false, error: queued.stop };
    else if (reply.type === "error") result = { ok: false, error: reply.error };
    else if (reply.result.kind !== "run") result = protocolError("run", reply.result.kind);
    else result = parseOutput(this.fn, reply.result.json, this.#limits);
    queued.resolve(result);
    if (!result.ok) this.#skipFollowers(queued, reply.type === "ok");
    const head = this.#runs.values().next().value;
    if (wasHead && head) this.#startClock(head);
    else if (!head) this.#clock.cancel();
  }

  /**
   * The followers of a run that did not succeed never begin. When the worker saw it
   * succeed (it was stopped here meanwhile), the worker may have begun the next one
   * already: they are stopped there and stay until it answers, timed by the grace of
   * a stopped run, so one that does not settle gets the worker terminated.
   */
  #skipFollowers(queued: QueuedRun, begun: boolean): void {
    for (let next = queued.next; next; next = next.next) {
      if (!this.#runs.has(next.id)) break;
      if (begun) {
        this.#stop(next, jobSkipped(next.jobId));
        continue;
      }
      this.#runs.delete(next.id);
      next.resolve({ ok: false, error: jobSkipped(next.jobId) });
    }
  }

  /** Stops the worker at once; pending requests fail. */
  terminate(): void {
    this.#die(workerCrashed("Worker was terminated"));
  }

  async #call(message: Outgoing, logId: number, graceMs: number, limits: Limits): Promise<Reply> {
    if (this.#dead) {
      return { type: "error", id: 0, error: workerCrashed("Worker is dead") };
    }
    const id = this.#nextId++;
    const reply = new Promise<Reply>((resolve) => this.#pending.set(id, { resolve, logId }));
    this.#post({ ...message, id });
    const stop = await settle(reply, limits);
    if (stop === undefined) return await reply;
    // Overran or cancelled: let `ctx.signal` end it gracefully, else terminate.
    this.#post({ type: "abort", id, reason: stop });
    if (
      await settle(reply, {
        ...limits,
        timeoutMs: graceMs,
        cancel: new AbortController().signal,
      }) !== undefined
    ) {
      this.terminate();
    }
    return { type: "error", id, error: stop };
  }

  #post(request: WorkerRequest): void {
    void this.#outbox.add(request);
  }

  /** Sends one request alone; a run that cannot be copied fails, with its followers. */
  #postOne(request: WorkerRequest): void {
    try {
      this.#port.postMessage(request);
    } catch (error) {
      const what = request.type === "run" ? "Job input" : `A "${request.type}" request`;
      const message = `${what} cannot be handed to the worker of "${this.fn}": ${error}`;
      const failed: ErrorReply = {
        type: "error",
        id: request.id,
        error: { name: ErrorName.InvalidInput, message, retryable: false },
      };
      if (this.#runs.has(request.id)) this.#answer(request.id, failed);
      else if (request.type === "load") this.#receive(failed);
    }
  }

  #receive(data: unknown): void {
    let message;
    try {
      message = parseWorkerMessage(data);
    } catch (error) {
      this.#die(workerCrashed(`Bad message from worker: ${(error as Error).message}`));
      return;
    }
    switch (message.type) {
      case "log": {
        const run = message.id === null ? undefined : this.#runs.get(message.id);
        const logId = message.id === null
          ? null
          : (run ?? this.#pending.get(message.id))?.logId ?? null;
        const record = checkedLog(message.record, run, logId, this.fn, this.#limits);
        if (record) this.#onLog(logId, record);
        return;
      }
      case "ok":
      case "error": {
        if (message.type === "error") {
          message = { ...message, error: capError(message.error, this.#limits) };
        }
        if (this.#runs.has(message.id)) return this.#answer(message.id, message);
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        pending?.resolve(message);
        return;
      }
      default:
        assertNever(message);
    }
  }

  #die(error: ErrorData): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#worker.terminate();
    this.#port.close();
    for (const [id, pending] of this.#pending) pending.resolve({ type: "error", id, error });
    this.#pending.clear();
    this.#clock.cancel();
    const results = deathResults(this.#runs.values(), error);
    let at = 0;
    for (const queued of this.#runs.values()) queued.resolve(results[at++]!);
    this.#runs.clear();
  }
}
