/**
 * A worker host: the child process a broker runs function modules in, so that
 * an out-of-memory (which ends the whole Deno process) costs one host, not the
 * broker. Keeps one warm {@linkcode SandboxWorker} per function and runs one job
 * at a time. Requests arrive as frames on stdin; replies and logs leave as frames
 * on stdout, which carries nothing else. Exits when stdin ends.
 *
 * Started by {@linkcode HostProcess}, with `--unstable-worker-options`, a heap
 * limit, and `--allow-*` flags that are the union of its functions' permissions.
 *
 * @module
 */
import { mergeDocument, restrictInput } from "../../core/dag.ts";
import { toErrorData } from "../../core/errors.ts";
import { TurnBatch } from "../../core/turn_batch.ts";
import type { ErrorData, JsonObject } from "../../core/types.ts";
import { concat, encodeFrame, pumpFrames } from "../messages/frames.ts";
import { loadLibzmq } from "../../core/zmq/mod.ts";
import { newDescribeKey, signDescription } from "../messages/describe_mac.ts";
import { HostService } from "./service.ts";
import type { Store, StoreModule } from "../messages/store.ts";
import { readOnlyPermissions } from "../messages/permissions.ts";
import { functionLoadError, jobCancelled, jobSkipped } from "../messages/errors.ts";
import { type LogSink, SandboxWorker } from "./sandbox_worker.ts";
import { assertNever, type DescribeResult } from "../messages/sandbox.ts";
import { type HostDescribeRequest, type HostMessage, parseHostRequest } from "../messages/host.ts";
import type { HostFollower, HostRunRequest } from "./job.ts";
import { parseStoreSpec } from "../messages/store.ts";

/** How long a module's top-level code may take. */
const LOAD_TIMEOUT_MS = 10_000;
/** Warm workers kept per host; the least recently used goes first. */
const MAX_WARM_WORKERS = 16;

const ENTRY_URL = new URL("../worker/entry.ts", import.meta.url).href;
const encoder = new TextEncoder();
/** Replies go out with blocking writes: cheaper than a stream, and in order by construction. */
const stdout = Deno.stdout;
/** Warm workers by function, least recently used first. */
const warm = new Map<string, SandboxWorker>();
/** Functions forgotten while they had jobs; dropped when those end. */
const forgotten = new Set<string>();
/** Runs not handed to a worker yet, in arrival order. */
const waiting: HostRunRequest[] = [];
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
/** Describes, one at a time, in arrival order. */
let queue = Promise.resolve();

/** Frames written in one turn leave in one write at its end. */
const replies = new TurnBatch<Uint8Array>((frames) => {
  const out = concat(...frames);
  for (let done = 0; done < out.length;) done += stdout.writeSync(out.subarray(done));
});

/** Set once the broker says `serve`: every job comes from the Router through it. */
let service: HostService | undefined;

/** What the service uses of this host. */
const runs = {
  run: accept,
  cancel,
  idle: () => waiting.length === 0 && started.size === 0 && !loading,
  tell: (message: HostMessage) => send(message),
};

function send(message: HostMessage): void {
  let frame: Uint8Array;
  try {
    frame = encodeFrame(message);
  } catch (error) {
    fatal(`Cannot write to the broker: ${error}`, 3);
  }
  replies.add(frame).catch((error) => fatal(`Cannot write to the broker: ${error}`, 3));
}

function fatal(message: string, code: number): never {
  Deno.stderr.writeSync(encoder.encode(`worker host: ${message}\n`));
  for (const worker of warm.values()) worker.terminate();
  Deno.exit(code);
}

/** A job's records go to the service, with the job they belong to; the rest as stray logs. */
const onLog: LogSink = (id, record) => {
  if (id === null || !service?.log(id, record)) send({ type: "log", id: null, record });
};

/** What describing logs (the module's top-level code) belongs to no job. */
const strayLog: LogSink = (_id, record) => send({ type: "log", id: null, record });

function fail(id: number, error: ErrorData): void {
  service?.answer(id, { ok: false, error });
}

function succeed(id: number, output: JsonObject): void {
  service?.answer(id, { ok: true, output });
}

/** Queues a describe; an unexpected error in one ends the host (the broker restarts it). */
function enqueue(task: () => Promise<void>): void {
  queue = queue.then(task).catch((error) => fatal(`Unexpected error: ${error?.stack ?? error}`, 1));
}

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
    service?.handed(request.id); // Loading its module counts: a crash there is this job's.
    warmWorker(request, cancel.signal).then((loaded) => {
      loading = false;
      started.delete(request.id);
      if (loaded.ok && !cancel.signal.aborted) hand(request, loaded.worker);
      else {
        fail(request.id, loaded.ok ? jobCancelled(request.jobId) : loaded.error);
        skip(request.then);
      }
      pump();
    }).catch((error) => fatal(`Unexpected error: ${error?.stack ?? error}`, 1));
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
  request: Pick<HostRunRequest, "version" | "permissions">,
): boolean {
  return !worker.dead && worker.version === request.version &&
    worker.permissionsKey === JSON.stringify(request.permissions);
}

/**
 * Gives one run to a worker, with the followers of the same function that come right
 * after it (the worker starts each the moment the one before succeeds, with no round
 * trip through the host); answers the broker as each ends. A follower of another
 * function goes first in line when the last of them succeeds.
 */
function hand(request: HostRunRequest, worker: SandboxWorker): void {
  const inWorker: HostFollower[] = [];
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
  for (const { step } of steps) service?.handed(step.id);
  const last = steps[steps.length - 1]!.step;
  if (rest) barrier = last.id;
  active = worker;
  warm.delete(request.fn); // Re-insert: most recently used last.
  warm.set(request.fn, worker);
  const { fn, input, jobId, pipelineId, attempt, document } = request;
  const results = worker.runChain(
    {
      fn,
      input,
      jobId,
      pipelineId,
      attempt,
      logId: request.id,
      timeoutMs: request.timeoutMs,
      cancel: steps[0]!.cancel.signal,
    },
    inWorker.map((next, at) => ({
      jobId: next.jobId,
      attempt: next.attempt,
      ...(next.requires ? { requires: next.requires } : {}),
      logId: next.id,
      timeoutMs: next.timeoutMs,
      cancel: steps[at + 1]!.cancel.signal,
    })),
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
        if (forgotten.delete(fn)) drop(fn, worker);
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
  next: HostFollower,
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
    type: "run",
    ...fields,
    input,
    pipelineId,
    ...(input === document ? {} : { document }),
    ...(then ? { then } : {}),
  });
}

/** Answers the followers of a run that did not succeed: they never begin. */
function skip(next: HostFollower | undefined): void {
  for (; next; next = next.then) {
    followers.delete(next.id);
    fail(next.id, jobSkipped(next.jobId));
  }
}

/** The function's warm worker, created and loaded when missing, dead or out of date. */
async function warmWorker(
  request: HostRunRequest,
  cancel: AbortSignal,
): Promise<{ ok: true; worker: SandboxWorker } | { ok: false; error: ErrorData }> {
  drop(request.fn);
  let worker: SandboxWorker;
  try {
    worker = new SandboxWorker(ENTRY_URL, request.fn, request.version, request.permissions, onLog);
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

/** Signs this host's descriptions; made before any user code runs here. */
let describeKey: CryptoKey | undefined;

/**
 * Describes a module in a throwaway worker that may only read the module and its
 * helpers. The jobs of this host go on meanwhile: the module's code runs on the
 * worker's thread, and the load is timed. The reply is signed.
 */
async function describe(request: HostDescribeRequest): Promise<void> {
  let result: DescribeResult;
  try {
    const worker = new SandboxWorker(
      ENTRY_URL,
      request.fn,
      0,
      readOnlyPermissions(request.read),
      strayLog,
    );
    try {
      const loaded = await worker.load(
        request.url,
        0,
        LOAD_TIMEOUT_MS,
        new AbortController().signal,
      );
      result = loaded.ok
        ? { ok: true, description: loaded.description }
        : { ok: false, error: loaded.error };
    } finally {
      worker.terminate();
    }
  } catch (error) {
    result = { ok: false, error: toErrorData(error, false) };
  }
  const body = JSON.stringify(result);
  const mac = await signDescription(describeKey!, request.id, body);
  send({ type: "described", id: request.id, body, mac });
}

function drop(fn: string, worker = warm.get(fn)): void {
  worker?.terminate();
  warm.delete(fn);
}

/** Takes a run and its followers, in arrival order. */
function accept(request: HostRunRequest): void {
  for (let next = request.then; next; next = next.then) {
    followers.set(next.id, { jobId: next.jobId, cancelled: false });
  }
  waiting.push(request);
  pump();
}

/** Stops a run: a follower before it begins, a waiting run at once, a started one in its worker. */
function cancel(id: number): void {
  const at = waiting.findIndex((run) => run.id === id);
  const follower = followers.get(id);
  if (follower) follower.cancelled = true;
  else if (at >= 0) {
    const [run] = waiting.splice(at, 1);
    fail(id, jobCancelled(run!.jobId));
    skip(run!.then);
  } else started.get(id)?.cancel.abort();
}

/**
 * The store named in the host's arguments (`--store=<json spec>`), imported here in the
 * host's own isolate, before any function module loads.
 */
async function loadStore(): Promise<Store | undefined> {
  const arg = Deno.args.find((a) => a.startsWith("--store="));
  if (!arg) return undefined;
  const spec = parseStoreSpec(JSON.parse(arg.slice("--store=".length)));
  const module: Partial<StoreModule> = await import(spec.module);
  if (typeof module.createStore !== "function") {
    throw new TypeError(`Store module ${spec.module} does not export createStore(options)`);
  }
  return await module.createStore(spec.options ?? {});
}

let store: Store | undefined;

async function main(): Promise<never> {
  // A host that cannot reach the Router is of no use: it fails at start, with the
  // loader's own error, and so does one whose store cannot load.
  try {
    loadLibzmq();
    store = await loadStore();
  } catch (error) {
    fatal(error instanceof Error ? error.message : String(error), 4);
  }
  const { key, base64 } = await newDescribeKey();
  describeKey = key;
  send({ type: "ready", pid: Deno.pid, key: base64 });
  try {
    await pumpFrames(Deno.stdin.readable, (frame) => {
      const request = parseHostRequest(frame);
      switch (request.type) {
        case "describe":
          enqueue(() => describe(request));
          break;
        case "serve":
          if (service) break;
          service = new HostService(request, runs, store);
          // Killed with its process group (Ctrl-C): leave no black box behind.
          for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
            Deno.addSignalListener(signal, () => {
              service?.close();
              Deno.exit(code);
            });
          }
          break;
        case "functions":
          service?.update(request.functions);
          break;
        case "drain":
          (service?.drain(request.graceMs) ?? Promise.resolve())
            .then(() => send({ type: "drained" }))
            .catch((error) => fatal(`Unexpected error: ${error?.stack ?? error}`, 1));
          break;
        case "forget":
          if ([...started.values()].some((run) => run.fn === request.fn)) {
            forgotten.add(request.fn);
          } else drop(request.fn);
          break;
        default:
          assertNever(request);
      }
    });
  } catch (error) {
    fatal(`Bad request from the broker: ${(error as Error).message}`, 2);
  }
  // The broker closed our stdin: it is stopping, or gone.
  service?.close();
  for (const worker of warm.values()) worker.terminate();
  await replies.flushNow().catch(() => {});
  Deno.exit(0);
}

if (import.meta.main) await main();
