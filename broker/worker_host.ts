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
import { toErrorData } from "../core/errors.ts";
import type { ErrorData } from "../core/types.ts";
import { encodeFrame, pumpFrames } from "./_frames.ts";
import { readOnlyPermissions } from "./permissions.ts";
import { functionLoadError } from "./sandbox_errors.ts";
import { type LogSink, SandboxWorker } from "./sandbox_worker.ts";
import {
  assertNever,
  type HostDescribeRequest,
  type HostMessage,
  type HostRunRequest,
  parseHostRequest,
} from "./worker_protocol.ts";

/** How long a module's top-level code may take. */
const LOAD_TIMEOUT_MS = 10_000;
/** Warm workers kept per host; the least recently used goes first. */
const MAX_WARM_WORKERS = 16;

const ENTRY_URL = new URL("./worker_entry.ts", import.meta.url).href;
const encoder = new TextEncoder();
/** Replies go out with blocking writes: cheaper than a stream, and in order by construction. */
const stdout = Deno.stdout;
/** Warm workers by function, least recently used first. */
const warm = new Map<string, SandboxWorker>();
/** Functions forgotten while running; dropped when their job ends. */
const forgotten = new Set<string>();
let running: { id: number; fn: string; cancel: AbortController } | undefined;
/** Runs and describes, one at a time, in arrival order. */
let queue = Promise.resolve();

function send(message: HostMessage): void {
  try {
    const frame = encodeFrame(message);
    for (let done = 0; done < frame.length;) done += stdout.writeSync(frame.subarray(done));
  } catch (error) {
    fatal(`Cannot write to the broker: ${error}`, 3);
  }
}

function fatal(message: string, code: number): never {
  Deno.stderr.writeSync(encoder.encode(`worker host: ${message}\n`));
  for (const worker of warm.values()) worker.terminate();
  Deno.exit(code);
}

const onLog: LogSink = (id, record) => send({ type: "log", id, record });

function fail(id: number, error: ErrorData): void {
  send({ type: "error", id, error });
}

/** Queues a run or describe; an unexpected error in one ends the host (the broker restarts it). */
function enqueue(task: () => Promise<void>): void {
  queue = queue.then(task).catch((error) => fatal(`Unexpected error: ${error?.stack ?? error}`, 1));
}

async function run(request: HostRunRequest): Promise<void> {
  const cancel = new AbortController();
  running = { id: request.id, fn: request.fn, cancel };
  try {
    const sandbox = await warmWorker(request, cancel.signal);
    if (!sandbox.ok) return fail(request.id, sandbox.error);
    const { fn, input, jobId, pipelineId, attempt } = request;
    const result = await sandbox.worker.run(
      { fn, input, jobId, pipelineId, attempt },
      request.id,
      request.timeoutMs,
      cancel.signal,
    );
    if (result.ok) {
      send({ type: "ok", id: request.id, result: { kind: "run", output: result.output } });
    } else fail(request.id, result.error);
  } finally {
    running = undefined;
    if (forgotten.delete(request.fn)) drop(request.fn);
  }
}

/** The function's warm worker, created and loaded when missing, dead or out of date. */
async function warmWorker(
  request: HostRunRequest,
  cancel: AbortSignal,
): Promise<{ ok: true; worker: SandboxWorker } | { ok: false; error: ErrorData }> {
  const current = warm.get(request.fn);
  if (
    current && !current.dead && current.version === request.version &&
    current.permissionsKey === JSON.stringify(request.permissions)
  ) {
    warm.delete(request.fn); // Re-insert: most recently used last.
    warm.set(request.fn, current);
    return { ok: true, worker: current };
  }
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
    if (fn !== request.fn) drop(fn, idle);
  }
  return { ok: true, worker };
}

function unusable(fn: string, problems: string[]): ErrorData {
  const message = problems.length > 0
    ? `Function "${fn}" has an invalid config: ${problems.join("; ")}`
    : `Function "${fn}" has no default export function`;
  return functionLoadError(message);
}

async function describe(request: HostDescribeRequest): Promise<void> {
  let worker: SandboxWorker;
  try {
    worker = new SandboxWorker(ENTRY_URL, request.fn, 0, readOnlyPermissions(request.read), onLog);
  } catch (error) {
    return fail(request.id, toErrorData(error, false));
  }
  try {
    const loaded = await worker.load(
      request.url,
      request.id,
      LOAD_TIMEOUT_MS,
      new AbortController().signal,
    );
    if (!loaded.ok) return fail(request.id, loaded.error);
    send({
      type: "ok",
      id: request.id,
      result: { kind: "describe", description: loaded.description },
    });
  } finally {
    worker.terminate();
  }
}

function drop(fn: string, worker = warm.get(fn)): void {
  worker?.terminate();
  warm.delete(fn);
}

async function main(): Promise<never> {
  send({ type: "ready", pid: Deno.pid });
  try {
    await pumpFrames(Deno.stdin.readable, (frame) => {
      const request = parseHostRequest(frame);
      switch (request.type) {
        case "run":
          enqueue(() => run(request));
          break;
        case "describe":
          enqueue(() => describe(request));
          break;
        case "cancel":
          if (running?.id === request.id) running.cancel.abort();
          break;
        case "forget":
          if (running?.fn === request.fn) forgotten.add(request.fn);
          else drop(request.fn);
          break;
        default:
          assertNever(request);
      }
    });
  } catch (error) {
    fatal(`Bad request from the broker: ${(error as Error).message}`, 2);
  }
  // The broker closed our stdin: it is stopping, or gone.
  for (const worker of warm.values()) worker.terminate();
  Deno.exit(0);
}

if (import.meta.main) await main();
