/**
 * A worker host: the child process a broker runs function modules in, so that
 * an out-of-memory (which ends the whole Deno process) costs one host, not the
 * broker. Its jobs come from the Router (`service.ts`) and run in `sandbox.ts`, one at
 * a time per slot (a host serves one slot or several). The first frame arrives on
 * stdin, before any user code runs: it names the broker's unix socket, which then
 * carries every other frame both ways. Its Web
 * Workers share the host's fds 0, 1 and 2: what they write there is never read as a
 * frame. Exits when the socket ends.
 *
 * Started by the broker's `supervisor/host_process.ts`, with `--unstable-worker-options`,
 * a heap limit, and `--allow-*` flags: what it needs itself, what its store needs, and
 * the union of its functions' permissions.
 *
 * @module
 */
import { TurnBatch } from "../../core/turn_batch.ts";
import { concat, encodeFrame, pumpFrames, readFirstFrame } from "../messages/frames.ts";
import { loadLibzmq, shareOneContext } from "../../core/zmq/mod.ts";
import { newDescribeKey, signDescription } from "../messages/describe_mac.ts";
import { HostService } from "./service.ts";
import { startTracing, type Tracing } from "../../core/tracing/mod.ts";
import type { Store, StoreModule, StoreSpec } from "../messages/store.ts";
import type { LogSink } from "./sandbox_worker.ts";
import { LOAD_TIMEOUT_MS, Sandbox, setWorkerLimits } from "./sandbox.ts";
import { SlotGate } from "./slot_gate.ts";
import { describeModule } from "./describe.ts";
import { assertNever } from "../messages/sandbox.ts";
import {
  type HostDescribeRequest,
  type HostInitRequest,
  type HostMessage,
  type HostServeRequest,
  parseHostRequest,
} from "../messages/host.ts";

const encoder = new TextEncoder();
/** Describes, one at a time, in arrival order. */
let queue = Promise.resolve();
/** The broker's socket, once connected. */
let channel: Deno.UnixConn | undefined;
/** Writes to it, one after another. */
let writing: Promise<void> = Promise.resolve();

/** Frames written in one turn leave in one write at its end, in order. */
const replies = new TurnBatch<Uint8Array>((frames) => {
  const out = concat(...frames);
  const conn = channel;
  if (!conn) return Promise.resolve();
  writing = writing.then(async () => {
    for (let done = 0; done < out.length;) done += await conn.write(out.subarray(done));
  });
  return writing;
});

/**
 * The slots this host serves, one per `serve` from the broker: each joins the Router
 * on its own and runs its jobs one at a time in a sandbox of its own. Slots share the
 * process, so an out-of-memory in one ends them all (the broker reports each).
 */
const slots: Array<{ service: HostService; sandbox: Sandbox }> = [];
/** Lets a job marked `alone` run with the other slots held. */
const gate = new SlotGate();

function send(message: HostMessage): void {
  let frame: Uint8Array;
  try {
    frame = encodeFrame(message);
  } catch (error) {
    fatal(`Cannot write to the broker: ${error}`, 3);
  }
  replies.add(frame).catch((error) => fatal(`Cannot write to the broker: ${error}`, 3));
}

function terminateAll(): void {
  for (const { sandbox } of slots) sandbox.terminateAll();
}

function fatal(message: string, code: number): never {
  Deno.stderr.writeSync(encoder.encode(`worker host: ${message}\n`));
  terminateAll();
  Deno.exit(code);
}

/** What describing logs (the module's top-level code) belongs to no job. */
const strayLog: LogSink = (_id, record) => send({ type: "log", id: null, record });

/** Starts serving one slot: a sandbox and the service that feeds it from the Router. */
function serveSlot(request: HostServeRequest): void {
  // The sandbox answers the service made right after it.
  const slot: { service?: HostService } = {};
  const sandbox = new Sandbox({
    answer: (id, result) => slot.service?.answer(id, result),
    handed: (id) => slot.service?.handed(id),
    // A job's records go to the service, with the job they belong to; the rest as stray logs.
    log: (id, record) => {
      if (id === null || !slot.service?.log(id, record)) strayLog(null, record);
    },
    fatal: (message) => fatal(message, 1),
  }, gate);
  const service = new HostService(
    request,
    {
      run: (job) => sandbox.accept(job),
      cancel: (id) => sandbox.cancel(id),
      idle: () => sandbox.idle(),
      tell: (message: HostMessage) => send(message),
    },
    store,
    curve,
    tracing,
  );
  slot.service = service;
  slots.push({ service, sandbox });
}

function closeSlots(): void {
  for (const { service } of slots) service.close();
}

/** Queues a describe; an unexpected error in one ends the host (the broker restarts it). */
function enqueue(task: () => Promise<void>): void {
  queue = queue.then(task).catch((error) => fatal(`Unexpected error: ${error?.stack ?? error}`, 1));
}

/** Signs this host's descriptions; made before any user code runs here. */
let describeKey: CryptoKey | undefined;

/**
 * Describes a module (see `describe.ts`); the jobs of this host go on meanwhile: the
 * module's code runs on the worker's thread, and the load is timed. The reply is
 * signed.
 */
async function describe(request: HostDescribeRequest): Promise<void> {
  const result = await describeModule(
    request.fn,
    request.url,
    request.read,
    LOAD_TIMEOUT_MS,
    (record) => strayLog(null, record),
  );
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
/** With `OTEL_EXPORTER_OTLP_ENDPOINT` set (the broker hands on its `OTEL_*`): the spans. */
let tracing: Tracing | undefined;
/** The keys this host joins the Router with, from its first frame. */
let curve: HostInitRequest["curve"];

/**
 * Loads what the host needs before any user code runs in it, then says `ready`. A host
 * that cannot reach the Router is of no use: it fails at start, with the loader's own
 * error, and so does one whose store cannot load.
 */
async function init(request: HostInitRequest): Promise<void> {
  curve = request.curve;
  try {
    loadLibzmq();
    if (request.store) store = await loadStore(request.store);
    if (request.limits) setWorkerLimits(request.limits);
    tracing = await startTracing("pipelinin-worker-host", `host-${Deno.pid}`);
  } catch (error) {
    fatal(error instanceof Error ? error.message : String(error), 4);
  }
  const { key, base64 } = await newDescribeKey();
  describeKey = key;
  send({ type: "ready", pid: Deno.pid, key: base64 });
}

/**
 * Reads the first frame on stdin and connects to the socket it names, before any
 * user code runs. Stdin stays open (its end at the broker is closed): a descriptor
 * closed here would be handed to the next file this process opens, which its Web
 * Workers could then read as "fd 0".
 */
async function connect(): Promise<HostInitRequest> {
  let request;
  try {
    request = parseHostRequest((await readFirstFrame(Deno.stdin.readable)).value);
  } catch (error) {
    fatal(`Bad first request from the broker: ${(error as Error).message}`, 2);
  }
  if (request.type !== "init") fatal(`Expected init from the broker, got ${request.type}`, 2);
  try {
    channel = await Deno.connect({ transport: "unix", path: request.socket });
  } catch (error) {
    fatal(`Cannot connect to the broker at ${request.socket}: ${error}`, 4);
  }
  send({ type: "hello", token: request.token });
  return request;
}

async function main(): Promise<never> {
  // The slots' links share one libzmq context and poll loop.
  shareOneContext();
  const first = await connect();
  init(first).catch((error) => fatal(`Unexpected error: ${error?.stack ?? error}`, 1));
  try {
    await pumpFrames(channel!.readable, (frame) => {
      const request = parseHostRequest(frame);
      switch (request.type) {
        case "init":
          break; // Only ever on stdin, first.
        case "describe":
          enqueue(() => describe(request));
          break;
        case "serve":
          if (slots.some(({ service }) => service.id === request.id)) break;
          if (slots.length === 0) {
            // Killed with its process group (Ctrl-C): leave no black box behind.
            for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
              Deno.addSignalListener(signal, () => {
                closeSlots();
                Deno.exit(code);
              });
            }
          }
          serveSlot(request);
          break;
        case "functions":
          for (const { service } of slots) service.update(request.functions);
          break;
        case "drain":
          Promise.all(slots.map(({ service }) => service.drain(request.graceMs)))
            .then(() => tracing?.forceFlush())
            .then(() => send({ type: "drained" }))
            .catch((error) => fatal(`Unexpected error: ${error?.stack ?? error}`, 1));
          break;
        case "forget":
          for (const { sandbox } of slots) sandbox.forget(request.fn);
          break;
        default:
          assertNever(request);
      }
    });
  } catch (error) {
    fatal(`Bad request from the broker: ${(error as Error).message}`, 2);
  }
  // The broker closed the socket: it is stopping, or gone.
  closeSlots();
  terminateAll();
  await replies.flushNow().catch(() => {});
  await writing.catch(() => {});
  await tracing?.shutdown().catch(() => {});
  Deno.exit(0);
}

if (import.meta.main) await main();
