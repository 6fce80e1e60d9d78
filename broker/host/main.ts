/**
 * A worker host: the child process a broker runs function modules in, so that
 * an out-of-memory (which ends the whole Deno process) costs one host, not the
 * broker. Its jobs come from the Router (`service.ts`) and run in `sandbox.ts`, one
 * at a time. Requests arrive as frames on stdin; replies and logs leave as frames
 * on stdout, which carries nothing else. Exits when stdin ends.
 *
 * Started by the broker's `supervisor/host_process.ts`, with `--unstable-worker-options`,
 * a heap limit, and `--allow-*` flags: what it needs itself, what its store needs, and
 * the union of its functions' permissions.
 *
 * @module
 */
import { toErrorData } from "../../core/errors.ts";
import { TurnBatch } from "../../core/turn_batch.ts";
import { concat, encodeFrame, pumpFrames } from "../messages/frames.ts";
import { loadLibzmq } from "../../core/zmq/mod.ts";
import { newDescribeKey, signDescription } from "../messages/describe_mac.ts";
import { HostService } from "./service.ts";
import type { Store, StoreModule, StoreSpec } from "../messages/store.ts";
import { readOnlyPermissions } from "../messages/permissions.ts";
import { type LogSink, SandboxWorker } from "./sandbox_worker.ts";
import * as sandbox from "./sandbox.ts";
import { ENTRY_URL, LOAD_TIMEOUT_MS } from "./sandbox.ts";
import { assertNever, type DescribeResult } from "../messages/sandbox.ts";
import {
  type HostDescribeRequest,
  type HostInitRequest,
  type HostMessage,
  parseHostRequest,
} from "../messages/host.ts";

const encoder = new TextEncoder();
/** Replies go out with blocking writes: cheaper than a stream, and in order by construction. */
const stdout = Deno.stdout;
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
  run: sandbox.accept,
  cancel: sandbox.cancel,
  idle: sandbox.idle,
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
  sandbox.terminateAll();
  Deno.exit(code);
}

/** A job's records go to the service, with the job they belong to; the rest as stray logs. */
const onLog: LogSink = (id, record) => {
  if (id === null || !service?.log(id, record)) send({ type: "log", id: null, record });
};

/** What describing logs (the module's top-level code) belongs to no job. */
const strayLog: LogSink = (_id, record) => send({ type: "log", id: null, record });

sandbox.connectSandbox({
  answer: (id, result) => service?.answer(id, result),
  handed: (id) => service?.handed(id),
  log: onLog,
  fatal: (message) => fatal(message, 1),
});

/** Queues a describe; an unexpected error in one ends the host (the broker restarts it). */
function enqueue(task: () => Promise<void>): void {
  queue = queue.then(task).catch((error) => fatal(`Unexpected error: ${error?.stack ?? error}`, 1));
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
      sandbox.workerLimits(),
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

/** Imports the store module in the host's own isolate, before any function module loads. */
async function loadStore(spec: StoreSpec): Promise<Store> {
  const module: Partial<StoreModule> = await import(spec.module);
  if (typeof module.createStore !== "function") {
    throw new TypeError(`Store module ${spec.module} does not export createStore(options)`);
  }
  return await module.createStore(spec.options ?? {});
}

let store: Store | undefined;

/**
 * Loads what the host needs before any user code runs in it, then says `ready`. A host
 * that cannot reach the Router is of no use: it fails at start, with the loader's own
 * error, and so does one whose store cannot load.
 */
async function init(request: HostInitRequest): Promise<void> {
  try {
    loadLibzmq();
    if (request.store) store = await loadStore(request.store);
    if (request.limits) sandbox.setWorkerLimits(request.limits);
  } catch (error) {
    fatal(error instanceof Error ? error.message : String(error), 4);
  }
  const { key, base64 } = await newDescribeKey();
  describeKey = key;
  send({ type: "ready", pid: Deno.pid, key: base64 });
}

async function main(): Promise<never> {
  try {
    await pumpFrames(Deno.stdin.readable, (frame) => {
      const request = parseHostRequest(frame);
      switch (request.type) {
        case "init":
          // The broker sends nothing else before the host says ready.
          init(request).catch((error) => fatal(`Unexpected error: ${error?.stack ?? error}`, 1));
          break;
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
          sandbox.forget(request.fn);
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
  sandbox.terminateAll();
  await replies.flushNow().catch(() => {});
  Deno.exit(0);
}

if (import.meta.main) await main();
