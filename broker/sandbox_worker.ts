/**
 * One sandboxed Web Worker inside a worker host: created with a function's
 * permissions, it loads the module once and runs its jobs. A job that overruns
 * its time or is cancelled gets `ctx.signal` aborted, a short grace to settle,
 * and then the worker is terminated (which stops even a `while (true)`).
 *
 * @module
 */
import { JobTimeoutError, toErrorData } from "../core/errors.ts";
import type { ErrorData, JsonObject } from "../core/types.ts";
import type { WorkerPermissions } from "./permissions.ts";
import { jobCancelled, workerCrashed } from "./sandbox_errors.ts";
import {
  assertNever,
  type ErrorReply,
  type JobFields,
  type LogRecord,
  type ModuleDescription,
  type OkReply,
  parseWorkerMessage,
  type WorkerLoadRequest,
  type WorkerRunRequest,
} from "./worker_protocol.ts";

/** How long an aborted job may take to settle before its worker is terminated. */
export const ABORT_GRACE_MS = 200;

/** How a job ended inside the worker. */
export type RunResult = { ok: true; output: JsonObject } | { ok: false; error: ErrorData };

/** How loading a module ended. */
export type LoadResult = { ok: true; description: ModuleDescription } | {
  ok: false;
  error: ErrorData;
};

/** Receives a log record and the id it belongs to (`null`: no job). */
export type LogSink = (id: number | null, record: LogRecord) => void;

type Reply = OkReply | ErrorReply;
/** What `#call` sends; it adds the id. */
type Outgoing = Omit<WorkerLoadRequest, "id"> | Omit<WorkerRunRequest, "id">;

interface Limits {
  timeoutMs: number;
  timeoutError: ErrorData;
  cancel: AbortSignal;
  cancelError: ErrorData;
}

/** A Web Worker running one function module. */
export class SandboxWorker {
  /** The function it runs. */
  readonly fn: string;
  /** The module version it loaded. */
  readonly version: number;
  /** Its permissions, serialized, to tell whether a run needs other ones. */
  readonly permissionsKey: string;
  readonly #worker: Worker;
  readonly #onLog: LogSink;
  /** Local request id -> reply resolver, and the outside id its logs belong to. */
  readonly #pending = new Map<number, { resolve: (reply: Reply) => void; logId: number }>();
  #nextId = 1;
  #dead = false;

  /** @throws {Deno.errors.NotCapable} when `permissions` exceed the host's. */
  constructor(
    entryUrl: string,
    fn: string,
    version: number,
    permissions: WorkerPermissions,
    onLog: LogSink,
  ) {
    this.fn = fn;
    this.version = version;
    this.permissionsKey = JSON.stringify(permissions);
    this.#onLog = onLog;
    this.#worker = new Worker(entryUrl, { type: "module", name: fn, deno: { permissions } });
    this.#worker.onmessage = (event) => this.#receive(event.data);
    this.#worker.onerror = (event) => {
      // Errors the entry could not catch itself, e.g. it failed to start.
      event.preventDefault();
      this.#die(workerCrashed(event.message));
    };
    this.#worker.onmessageerror = () => {
      this.#die(workerCrashed("Unreadable message from worker"));
    };
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
  ): Promise<LoadResult> {
    const reply = await this.#call({ type: "load", fn: this.fn, url }, logId, 0, {
      timeoutMs,
      timeoutError: {
        name: "FunctionLoadError",
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

  /** Runs one job of the loaded module. */
  async run(
    job: JobFields,
    logId: number,
    timeoutMs: number,
    cancel: AbortSignal,
  ): Promise<RunResult> {
    const reply = await this.#call({ type: "run", ...job }, logId, ABORT_GRACE_MS, {
      timeoutMs,
      timeoutError: withoutStack(toErrorData(new JobTimeoutError(job.jobId, timeoutMs), true)),
      cancel,
      cancelError: jobCancelled(job.jobId),
    });
    if (reply.type === "error") return { ok: false, error: reply.error };
    if (reply.result.kind !== "run") return protocolError("run", reply.result.kind);
    return { ok: true, output: reply.result.output };
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
    this.#worker.postMessage({ ...message, id });
    const stop = await settle(reply, limits);
    if (stop === undefined) return await reply;
    // Overran or cancelled: let `ctx.signal` end it gracefully, else terminate.
    this.#worker.postMessage({ type: "abort", id, reason: stop });
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
        const logId = message.id === null ? null : this.#pending.get(message.id)?.logId ?? null;
        // A record of no job says which function it came from.
        const { record } = message;
        this.#onLog(
          logId,
          logId === null ? { ...record, fields: { ...record.fields, fn: this.fn } } : record,
        );
        return;
      }
      case "ok":
      case "error": {
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
    for (const [id, pending] of this.#pending) pending.resolve({ type: "error", id, error });
    this.#pending.clear();
  }
}

/** Waits for `reply`; returns the error to stop with if the time runs out or `cancel` fires first. */
async function settle(reply: Promise<Reply>, limits: Limits): Promise<ErrorData | undefined> {
  if (limits.cancel.aborted) return limits.cancelError;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<ErrorData>((resolve) => {
    timer = setTimeout(() => resolve(limits.timeoutError), limits.timeoutMs);
    onAbort = () => resolve(limits.cancelError);
    limits.cancel.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([reply.then(() => undefined), stopped]);
  } finally {
    clearTimeout(timer);
    if (onAbort) limits.cancel.removeEventListener("abort", onAbort);
  }
}

/** Where the host noticed the overrun says nothing about the function. */
function withoutStack({ stack: _, ...error }: ErrorData): ErrorData {
  return error;
}

function protocolError(asked: string, got: string): { ok: false; error: ErrorData } {
  return { ok: false, error: workerCrashed(`Worker answered a ${asked} with a ${got} result`) };
}
