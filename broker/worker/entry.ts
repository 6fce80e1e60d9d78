/**
 * The bootstrap of a sandboxed Web Worker: imports one function module and calls
 * its default export for each job. Runs with the function's own permissions,
 * beside the user's code, so it keeps what it needs (`postMessage`, `console`)
 * before any user code runs.
 *
 * @module
 */
import { fromErrorData, toErrorData } from "../../core/errors.ts";
import { WorkerChain } from "./chain.ts";
import type { ErrorData, FunctionContext, JsonObject } from "../../core/types.ts";
import { validateConfig } from "../messages/function_config.ts";
import { assertNever, type LogLevel, type ModuleDescription } from "../messages/sandbox.ts";
import {
  parseWorkerRequest,
  type WorkerFollower,
  type WorkerMessage,
  type WorkerRequest,
  type WorkerRunRequest,
} from "../messages/worker.ts";

interface WorkerScope {
  postMessage(message: WorkerMessage): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
}

type FunctionModule = { default?: unknown; config?: unknown };

const scope = globalThis as unknown as WorkerScope;
const post = scope.postMessage.bind(scope);
const MAX_MESSAGE_CHARS = 16_384;

let fn = "";
let module: FunctionModule | undefined;
/** The job running now; cleared once it has its reply, so only one reply is sent. */
let current: { id: number; controller: AbortController; then?: WorkerFollower } | undefined;
/**
 * Runs waiting their turn. The host may hand over several at once; they run one at a
 * time, in order, back to back (no round trip to the host between them).
 */
const waiting: WorkerRunRequest[] = [];
/** The followers of the runs here that have not begun. */
const chain = new WorkerChain();

/** After `request` ended with `reply`: starts its follower, else the next waiting run. */
function after(request: WorkerRunRequest, reply: WorkerMessage, stop: AbortSignal): void {
  const then = chain.after(request, reply, stop);
  switch (then.kind) {
    case "run":
      void run(then.request);
      return;
    case "decline":
      post({ type: "error", id: then.id, error: then.error });
      return next();
    case "none":
      return next();
    default:
      assertNever(then);
  }
}

/** Starts the next waiting run unless one is running. */
function next(): void {
  if (current) return;
  const request = waiting.shift();
  if (request) void run(request);
}

function log(id: number | null, level: LogLevel, message: string, fields?: unknown): void {
  const text = message.length > MAX_MESSAGE_CHARS
    ? `${message.slice(0, MAX_MESSAGE_CHARS)}... (${message.length} characters)`
    : message;
  post({
    type: "log",
    id,
    record: { time: Date.now(), level, message: text, ...jsonFields(fields) },
  });
}

function jsonFields(fields: unknown): { fields?: JsonObject } {
  if (fields === undefined) return {};
  try {
    const json: unknown = JSON.parse(JSON.stringify(fields));
    if (typeof json === "object" && json !== null && !Array.isArray(json)) {
      return { fields: json as JsonObject };
    }
    return { fields: { value: json as JsonObject[string] } };
  } catch (error) {
    return { fields: { fieldsError: `Log fields are not JSON: ${(error as Error).message}` } };
  }
}

// The host's stdout carries the frames to the broker, and its stdin the broker's
// requests: user code gets neither. `console` becomes log records of the running job.
function isolateStdio(): void {
  const write = (level: LogLevel) => (...args: unknown[]) =>
    log(
      current?.id ?? null,
      level,
      args.map((arg) => typeof arg === "string" ? arg : Deno.inspect(arg)).join(" "),
    );
  const methods: Record<string, (...args: unknown[]) => void> = {
    log: write("info"),
    info: write("info"),
    dir: write("info"),
    table: write("info"),
    debug: write("debug"),
    trace: write("debug"),
    warn: write("warn"),
    error: write("error"),
    assert: (condition, ...args) => {
      if (!condition) write("error")("Assertion failed", ...args);
    },
  };
  const quiet = new Proxy(console, { get: (_, key) => methods[String(key)] ?? (() => {}) });
  Object.defineProperty(globalThis, "console", {
    value: quiet,
    configurable: false,
    writable: false,
  });
  Object.defineProperty(Deno, "stdout", {
    value: Deno.stderr,
    configurable: false,
    writable: false,
  });
  Object.defineProperty(Deno, "stdin", {
    configurable: false,
    get() {
      throw new Deno.errors.NotCapable("Function modules have no standard input");
    },
  });
}

function describe(loaded: FunctionModule): ModuleDescription {
  const { config, problems } = validateConfig(loaded.config);
  return { config, problems, hasDefault: typeof loaded.default === "function" };
}

async function run(request: WorkerRunRequest): Promise<void> {
  const controller = new AbortController();
  current = { id: request.id, controller, ...(request.then ? { then: request.then } : {}) };
  let reply: WorkerMessage;
  try {
    if (typeof module?.default !== "function") {
      throw new TypeError(`Function "${fn}" has no default export function`);
    }
    const ctx: FunctionContext = {
      jobId: request.jobId,
      pipelineId: request.pipelineId,
      attempt: request.attempt,
      signal: controller.signal,
      log: {
        debug: (message, fields) => log(request.id, "debug", String(message), fields),
        info: (message, fields) => log(request.id, "info", String(message), fields),
        warn: (message, fields) => log(request.id, "warn", String(message), fields),
        error: (message, fields) => log(request.id, "error", String(message), fields),
      },
    };
    const output: unknown = await module.default(request.input, ctx);
    reply = { type: "ok", id: request.id, result: { kind: "run", output: toJsonObject(output) } };
  } catch (error) {
    reply = { type: "error", id: request.id, error: errorData(error) };
  }
  // An uncaught error may already have failed this job.
  if (current?.id !== request.id) return;
  current = undefined;
  post(reply);
  after(request, reply, controller.signal);
}

function toJsonObject(output: unknown): JsonObject {
  if (typeof output !== "object" || output === null || Array.isArray(output)) {
    throw new BadOutputError(`Function "${fn}" returned ${kind(output)} instead of a JSON object`);
  }
  const proto = Object.getPrototypeOf(output);
  if (proto !== Object.prototype && proto !== null) {
    const name = (proto as { constructor?: { name?: string } })?.constructor?.name ?? "an object";
    throw new BadOutputError(`Function "${fn}" returned a ${name} instead of a JSON object`);
  }
  try {
    return JSON.parse(JSON.stringify(output));
  } catch (error) {
    throw new BadOutputError(
      `Function "${fn}" returned an object that is not JSON: ${(error as Error).message}`,
    );
  }
}

/** A function's output is not a JSON object: a bug that another attempt will not fix. */
class BadOutputError extends TypeError {
  readonly retryable = false;
}

function kind(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`;
}

function errorData(error: unknown): ErrorData {
  try {
    return toErrorData(error);
  } catch {
    return {
      name: "Error",
      message: "Function threw a value that cannot be read",
      retryable: true,
    };
  }
}

function uncaught(error: unknown): void {
  const data = errorData(error);
  if (current) {
    const { id, then } = current;
    current = undefined;
    chain.forget(then);
    post({
      type: "error",
      id,
      error: { ...data, message: `Uncaught in function "${fn}": ${data.message}` },
    });
    next(); // The failed run may never settle; the ones behind it must not wait for it.
  } else {
    log(null, "error", `Uncaught in function "${fn}" outside a job: ${data.message}`, {
      name: data.name,
      ...(data.stack ? { stack: data.stack } : {}),
    });
  }
}

scope.addEventListener("error", (event) => {
  event.preventDefault();
  const e = event as ErrorEvent;
  uncaught(e.error ?? new Error(e.message));
});
scope.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  uncaught((event as PromiseRejectionEvent).reason);
});

// The host sends what it has for this worker in one turn as one message: an array
// when there is more than one request.
scope.addEventListener("message", (event) => {
  const data: unknown = (event as MessageEvent).data;
  for (const item of Array.isArray(data) ? data : [data]) {
    try {
      handle(parseWorkerRequest(item));
    } catch (error) {
      uncaught(error); // One bad request (a host bug) must not drop the others.
    }
  }
});

function handle(request: WorkerRequest): void {
  switch (request.type) {
    case "load":
      fn = request.fn;
      import(request.url).then(
        (loaded: FunctionModule) => {
          module = loaded;
          post({
            type: "ok",
            id: request.id,
            result: { kind: "describe", description: describe(loaded) },
          });
        },
        (error) =>
          post({ type: "error", id: request.id, error: { ...errorData(error), retryable: false } }),
      );
      return;
    case "run":
      chain.expect(request);
      waiting.push(request);
      next();
      return;
    case "abort": {
      if (current?.id === request.id) {
        current.controller.abort(fromErrorData(request.reason));
        return;
      }
      const at = waiting.findIndex((run) => run.id === request.id);
      if (at >= 0) {
        const [run] = waiting.splice(at, 1);
        chain.forget(run!.then);
        post({ type: "error", id: request.id, error: request.reason });
      } else chain.stop(request.id, request.reason);
      return;
    }
    default:
      assertNever(request);
  }
}

isolateStdio();
