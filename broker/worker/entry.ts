/**
 * The bootstrap of a sandboxed Web Worker: imports one function module and calls
 * its default export for each job. Runs with the function's own permissions,
 * beside the user's code, so it keeps what it needs before any user code runs: the
 * private port to its host (handed over in the first message on `self`, before the
 * module loads: user code on `self` sees no request and cannot answer one), the
 * built-ins it calls with requests, and `console`.
 *
 * @module
 */
import { fromErrorData, toErrorData } from "../../core/errors.ts";
import { RunQueue, WorkerChain } from "./chain.ts";
import { copyJson, outputJson } from "./output.ts";
import type { ErrorData, FunctionContext, JsonObject } from "../../core/types.ts";
import { validateConfig } from "../messages/function_config.ts";
import { assertNever, type LogLevel, type ModuleDescription } from "../messages/sandbox.ts";
import {
  capError,
  cut,
  DEFAULT_WORKER_LIMITS,
  parseWorkerConnect,
  parseWorkerRequest,
  type WorkerFollower,
  type WorkerLimits,
  type WorkerMessage,
  type WorkerRequest,
  type WorkerRunRequest,
} from "../messages/worker.ts";

interface WorkerScope {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
}

type FunctionModule = { default?: unknown; config?: unknown };

const scope: WorkerScope = globalThis;
// Taken now, before user code can replace them (it shares this realm).
const isArray = Array.isArray;
const stringify = JSON.stringify;
// A MessageEvent's `data` and `ports` are its own fields (no getter to replace).
const hasOwn = Object.hasOwn;
const dataOf = (event: MessageEvent): unknown => hasOwn(event, "data") ? event.data : undefined;
const portPost = Function.prototype.call.bind(MessagePort.prototype.postMessage) as (
  port: MessagePort,
  message: WorkerMessage,
) => void;
const removeListener = scope.removeEventListener.bind(scope);
const MAX_MESSAGE_CHARS = 16_384;

/**
 * Nothing can be added to these prototypes: a getter there for a key an object
 * lacks (`then`, looked up whenever a promise resolves with an object, as Deno's
 * own message loop does with each message's bytes) would see objects that belong
 * to other jobs. Adding to a built-in prototype is all this forbids.
 */
function sealPrototypes(): void {
  const typedArray = Object.getPrototypeOf(Uint8Array.prototype) as object;
  for (
    const proto of [
      Object.prototype,
      Array.prototype,
      typedArray,
      Uint8Array.prototype,
      ArrayBuffer.prototype,
      Function.prototype,
      Promise.prototype,
    ]
  ) Object.preventExtensions(proto);
}

let port: MessagePort | undefined;
let limits: WorkerLimits = DEFAULT_WORKER_LIMITS;

function post(message: WorkerMessage): void {
  if (port) portPost(port, message);
}

/** What one attempt (or the time between them) wrote to the log, and what was cut. */
interface LogBudget {
  used: number;
  cutRecords: number;
  cutChars: number;
}

const newBudget = (): LogBudget => ({ used: 0, cutRecords: 0, cutChars: 0 });
/** Records of no job: their budget starts again with each run. */
let strayBudget = newBudget();

let fn = "";
let module: FunctionModule | undefined;
/** The job running now; cleared once it has its reply, so only one reply is sent. */
let current:
  | { id: number; controller: AbortController; budget: LogBudget; then?: WorkerFollower }
  | undefined;
/**
 * Runs waiting their turn. The host may hand over several at once; they run one at a
 * time, in order, back to back (no round trip to the host between them).
 */
const waiting = new RunQueue();
/** The followers of the runs here that have not begun. */
const chain = new WorkerChain();

/** After `request` ended with `reply`: starts its follower, else the next waiting run. */
function after(request: WorkerRunRequest, output: JsonObject | undefined, stop: AbortSignal): void {
  const then = chain.after(request, output, stop);
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

/**
 * Posts a log record, within the attempt's budget: past it, records are only
 * counted, and one line says how much was cut when the attempt ends.
 */
function log(
  id: number | null,
  budget: LogBudget,
  level: LogLevel,
  message: string,
  fields?: unknown,
): void {
  const text = cut(message, MAX_MESSAGE_CHARS);
  const json = jsonFields(fields);
  const size = text.length + json.size;
  if (budget.used + size > limits.maxLogCharsPerAttempt) {
    budget.cutRecords++;
    budget.cutChars += size;
    return;
  }
  budget.used += size;
  post({
    type: "log",
    id,
    record: { time: Date.now(), level, message: text, ...json.fields },
  });
}

/** The line that says how much of a budget's log was cut, if any. */
function reportCut(id: number | null, budget: LogBudget): void {
  if (budget.cutRecords === 0) return;
  post({
    type: "log",
    id,
    record: {
      time: Date.now(),
      level: "warn",
      message: `Log cut at ${limits.maxLogCharsPerAttempt} characters: ${budget.cutRecords} ` +
        `more records (${budget.cutChars} characters) were left out`,
    },
  });
  budget.cutRecords = 0;
}

function jsonFields(fields: unknown): { fields?: { fields: JsonObject }; size: number } {
  if (fields === undefined) return { size: 0 };
  try {
    const copy = copyJson(fn, fields, limits.maxOutputDepth, "fields");
    const object = typeof copy === "object" && copy !== null && !isArray(copy)
      ? copy
      : { value: copy };
    return { fields: { fields: object }, size: stringify(object).length };
  } catch (error) {
    const fieldsError = `Log fields are not JSON: ${(error as Error).message}`;
    return { fields: { fields: { fieldsError } }, size: fieldsError.length };
  }
}

// The host's stdout carries the frames to the broker, and its stdin the broker's
// requests: user code gets neither. `console` becomes log records of the running job.
function isolateStdio(): void {
  const write = (level: LogLevel) => (...args: unknown[]) =>
    log(
      current?.id ?? null,
      current?.budget ?? strayBudget,
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
  const budget = newBudget();
  reportCut(null, strayBudget);
  strayBudget = newBudget();
  current = {
    id: request.id,
    controller,
    budget,
    ...(request.then ? { then: request.then } : {}),
  };
  let reply: WorkerMessage;
  let output: JsonObject | undefined;
  try {
    if (typeof module?.default !== "function") {
      throw new TypeError(`Function "${fn}" has no default export function`);
    }
    const ctx: FunctionContext = {
      jobId: request.jobId,
      pipelineId: request.pipelineId,
      attempt: request.attempt,
      ...(request.trace ? { trace: request.trace } : {}),
      signal: controller.signal,
      log: {
        debug: (message, fields) => log(request.id, budget, "debug", String(message), fields),
        info: (message, fields) => log(request.id, budget, "info", String(message), fields),
        warn: (message, fields) => log(request.id, budget, "warn", String(message), fields),
        error: (message, fields) => log(request.id, budget, "error", String(message), fields),
      },
    };
    const checked = outputJson(fn, await module.default(request.input, ctx), limits);
    output = checked.output;
    reply = { type: "ok", id: request.id, result: { kind: "run", json: checked.json } };
  } catch (error) {
    output = undefined;
    reply = { type: "error", id: request.id, error: errorData(error) };
  }
  // An uncaught error may already have failed this job.
  if (current?.id !== request.id) return;
  current = undefined;
  reportCut(request.id, budget);
  post(reply);
  after(request, output, controller.signal);
}

function errorData(error: unknown): ErrorData {
  try {
    return capError(toErrorData(error), limits);
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
    log(null, strayBudget, "error", `Uncaught in function "${fn}" outside a job: ${data.message}`, {
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

/**
 * The first message on `self` brings the port every other message goes by; it comes
 * before the module is imported, so no user listener sees it, and none comes after.
 */
function connect(event: Event): void {
  removeListener("message", connect);
  const { ports } = event as MessageEvent;
  limits = parseWorkerConnect(dataOf(event as MessageEvent)).limits;
  port = ports[0]!;
  port.onmessage = receive;
}
scope.addEventListener("message", connect);

// The host sends what it has for this worker in one turn as one message: an array
// when there is more than one request. Indexed loops only: an iterator would be looked
// up on a prototype user code can patch.
function receive(event: MessageEvent): void {
  const data: unknown = dataOf(event);
  if (!isArray(data)) return receiveOne(data);
  for (let at = 0; at < data.length; at++) receiveOne(data[at]);
}

function receiveOne(item: unknown): void {
  try {
    handle(parseWorkerRequest(item));
  } catch (error) {
    uncaught(error); // One bad request (a host bug) must not drop the others.
  }
}

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
      const run = waiting.remove(request.id);
      if (run) {
        chain.forget(run.then);
        post({ type: "error", id: request.id, error: request.reason });
      } else chain.stop(request.id, request.reason);
      return;
    }
    default:
      assertNever(request);
  }
}

isolateStdio();
sealPrototypes();
