/**
 * `deno task start-broker`: runs a broker from the command line.
 *
 * @module
 */
import { intFlag } from "../core/cli.ts";
import { DEFAULT_WORKER_LIMITS } from "./messages/worker.ts";
import { COMMON_FLAGS, PEER_CURVE_FLAGS, runDaemon } from "../core/daemon.ts";
import { peerCurveKeys } from "../core/curve_keys.ts";
import { routerEndpoints } from "../core/router_endpoints.ts";
import { fileStore, start, type StoreSpec } from "./mod.ts";
import { parseStoreSpec } from "./messages/store.ts";
import { parsePermissionCap } from "./supervisor/permission_cap.ts";

await runDaemon("broker", {
  usage: "deno task start-broker",
  description:
    "A pipelinin Broker: runs the function modules of a folder in warm pools of sandboxed Web Workers and serves the Router's jobs. Run as many as you have machines.",
  flags: {
    router: {
      type: "string",
      description:
        "The Router's request endpoint, or a comma list of every Router's (the active one is followed)",
      default: "tcp://127.0.0.1:5555",
    },
    functions: {
      type: "string",
      description: "Folder of function modules of its own ('': none, only what the Router ships)",
      default: "functions",
    },
    workers: { type: "string", description: "Worker slots (default: the number of CPUs)" },
    "host-slots": {
      type: "string",
      description:
        "Slots per worker host process: they share its memory, and an out-of-memory ends all its jobs (1: a process per slot)",
      default: "4",
    },
    prefetch: {
      type: "string",
      description:
        "Most jobs per slot queued here ahead of time; the Router sends that many only for short jobs (0: none)",
      default: "64",
    },
    "heap-mb": {
      type: "string",
      description: "Heap limit of each worker host, MiB",
      default: "256",
    },
    "file-store": {
      type: "string",
      description:
        "Keep documents as JSON files in this folder instead of the Router's store (needs --allow-write there)",
    },
    store: {
      type: "string",
      description:
        "A store module (exporting createStore(options)) the worker hosts fetch inputs from and save outputs to",
    },
    "store-options": { type: "string", description: "The store's options, as a JSON object" },
    "store-permissions": {
      type: "string",
      description:
        'What the hosts may do for the store, as JSON: {"read":[..],"write":[..],"net":[..],"env":[..]}; the broker must hold it too',
    },
    "max-permissions": {
      type: "string",
      description:
        'The most a function may ask for, as JSON like a config\'s permissions: {"net":["127.0.0.1:8000"],"read":false}; kinds left out are denied, functions asking for more are refused (default: no cap)',
    },
    "max-output-chars": {
      type: "string",
      description: "Largest job output, in characters of its JSON; a larger one fails its job",
      default: String(DEFAULT_WORKER_LIMITS.maxOutputChars),
    },
    "max-output-depth": {
      type: "string",
      description:
        "Deepest nesting of a job output (objects and arrays); a deeper one fails its job",
      default: String(DEFAULT_WORKER_LIMITS.maxOutputDepth),
    },
    "max-error-message-chars": {
      type: "string",
      description: "A job error's message is cut to this many characters",
      default: String(DEFAULT_WORKER_LIMITS.maxErrorMessageChars),
    },
    "max-error-stack-chars": {
      type: "string",
      description: "A job error's stack is cut to this many characters",
      default: String(DEFAULT_WORKER_LIMITS.maxErrorStackChars),
    },
    "max-log-chars": {
      type: "string",
      description:
        "Log text one attempt of a job may write; the rest is cut, with one line saying so",
      default: String(DEFAULT_WORKER_LIMITS.maxLogCharsPerAttempt),
    },
    id: { type: "string", description: "This broker's id (default: host, pid, random)" },
    ...PEER_CURVE_FLAGS,
    ...COMMON_FLAGS,
  },
}, (flags) => {
  return start({
    router: routerEndpoints("--router", flags.router),
    functionsDir: flags.functions === "" ? null : flags.functions,
    workers: flags.workers === undefined ? undefined : intFlag("workers", flags.workers, 1),
    hostSlots: intFlag("host-slots", flags["host-slots"], 1),
    heapMb: intFlag("heap-mb", flags["heap-mb"], 16),
    prefetch: intFlag("prefetch", flags.prefetch, 0),
    id: flags.id,
    store: storeOf(flags),
    curve: peerCurveKeys(flags["curve-key"], flags["router-key"]),
    ...(flags["curve-key"] === undefined ? {} : { secretFiles: [flags["curve-key"]] }),
    ...(flags["max-permissions"] === undefined
      ? {}
      : { maxPermissions: parsePermissionCap(flags["max-permissions"]) }),
    workerLimits: {
      maxOutputChars: intFlag("max-output-chars", flags["max-output-chars"], 2),
      maxOutputDepth: intFlag("max-output-depth", flags["max-output-depth"], 1),
      maxErrorMessageChars: intFlag("max-error-message-chars", flags["max-error-message-chars"], 1),
      maxErrorStackChars: intFlag("max-error-stack-chars", flags["max-error-stack-chars"], 1),
      maxLogCharsPerAttempt: intFlag("max-log-chars", flags["max-log-chars"], 0),
    },
  });
});

function storeOf(flags: {
  "file-store"?: string;
  store?: string;
  "store-options"?: string;
  "store-permissions"?: string;
}): StoreSpec | undefined {
  if (flags["file-store"] !== undefined) {
    if (flags.store !== undefined) throw new TypeError("Give --store or --file-store, not both");
    return fileStore(flags["file-store"]);
  }
  if (flags.store === undefined) return undefined;
  return parseStoreSpec({
    module: new URL(flags.store, `file://${Deno.cwd()}/`).href,
    ...(flags["store-options"] ? { options: JSON.parse(flags["store-options"]) } : {}),
    ...(flags["store-permissions"] ? { permissions: JSON.parse(flags["store-permissions"]) } : {}),
  });
}
