/**
 * Messages between a broker and one of its worker host processes: length-prefixed
 * JSON frames (`frames.ts`). The first, {@linkcode HostInitRequest}, comes on the
 * host's stdin before any user code runs; it names a unix socket of the broker's
 * (and a one-time token), and everything else ({@linkcode HostRequest},
 * {@linkcode HostMessage}) goes over that socket. The host's Web Workers share its
 * file descriptors 0, 1 and 2, so those carry no frames: the broker drops what
 * the host's stdout carries and keeps only the end of its stderr, for a crash's
 * message. Descriptions are signed all the same (`DescribedMessage`).
 *
 * @module
 */
import type { FunctionConfig } from "../../core/types.ts";
import { type CurveClientKeys, isZ85Key } from "../../core/curve_keys.ts";
import { num, record, str, strings } from "./_fields.ts";
import { routerEndpoints } from "../../core/router_endpoints.ts";
import { parseWorkerLimits, type WorkerLimits } from "./worker.ts";
import { validateConfig } from "./function_config.ts";
import { parseWorkerPermissions, type WorkerPermissions } from "./permissions.ts";
import { parseStoreSpec, type StoreSpec } from "./store.ts";
import { type LogMessage, type LogRecord, parseLogMessage, parseLogRecord } from "./sandbox.ts";

/** Load a module in a throwaway worker without permissions and describe it. */
export interface HostDescribeRequest {
  type: "describe";
  id: number;
  fn: string;
  url: string;
  /** What the worker may read: the module and its helpers. */
  read: string[];
}

/** Drop the warm worker of a function that changed or went away. */
export interface HostForgetRequest {
  type: "forget";
  fn: string;
}

/** What a host serving the Router needs to run any job of one function. */
export interface ServedFunction {
  name: string;
  config: FunctionConfig;
  /** `file:` URL of the module with a `?v=` version. */
  url: string;
  version: number;
  permissions: WorkerPermissions;
  /** Its time limit when a job sets none. */
  timeoutMs: number;
}

/**
 * Join the Router at `router` as a broker of one slot with routing id `id`, and take
 * jobs from it directly (no broker in between); `functions` is what it serves.
 */
export interface HostServeRequest {
  type: "serve";
  /** The Routers' request endpoints; the host follows whichever one is bound. */
  router: string[];
  id: string;
  /** The broker's id: the Router counts the host as one of its slots. */
  of: string;
  /** The broker's host name, for the Router's registry. */
  hostname: string;
  prefetch: number;
  functions: ServedFunction[];
  /**
   * A file the host keeps the job it is running in (its only write permission), so
   * that the broker can tell the Router which job took it down when it dies.
   */
  blackBox?: string;
}

/** The functions a serving host offers changed: this is the whole new table. */
export interface HostFunctionsRequest {
  type: "functions";
  functions: ServedFunction[];
}

/**
 * Stop taking jobs: finish those taken (for up to `graceMs`, then cancel them), leave
 * the Router, then answer `drained`.
 */
export interface HostDrainRequest {
  type: "drain";
  graceMs: number;
}

/** Everything the broker sends a host. */
/**
 * The first frame a host reads: what it loads before any user code runs in it (its
 * store, given here rather than in its arguments, which its Web Workers can read).
 */
export interface HostInitRequest {
  type: "init";
  /** The broker's socket the host connects to (once: it is removed after). */
  socket: string;
  /** What the host says first on the socket, to be taken for this host. */
  token: string;
  store?: StoreSpec;
  /** Caps on what its Web Workers send back; absent: the defaults. */
  limits?: WorkerLimits;
  /**
   * The CURVE keys it joins the Router with (its broker's): only here, read before
   * any user code runs, and kept in the host's memory, which its Web Workers cannot read.
   */
  curve?: CurveClientKeys;
}

export type HostRequest =
  | HostInitRequest
  | HostDescribeRequest
  | HostForgetRequest
  | HostServeRequest
  | HostFunctionsRequest
  | HostDrainRequest;

/** The host's first frame on the broker's socket: it is the host given `token`. */
export interface HelloMessage {
  type: "hello";
  token: string;
}

/**
 * The host is up and reads requests. `key` (base64) signs its descriptions: it is
 * sent before any user code runs in the host, and user code can write to the host's
 * stdout but not read the host's memory, so only the host can sign.
 */
export interface ReadyMessage {
  type: "ready";
  pid: number;
  key: string;
}

/**
 * How describing a module ended: `body` is the JSON of a {@linkcode DescribeResult},
 * `mac` its HMAC-SHA-256 (base64) under the host's `key`, over `<id>\n<body>`. A
 * function's code can write frames to its host's stdout; it cannot sign one.
 */
export interface DescribedMessage {
  type: "described";
  id: number;
  body: string;
  mac: string;
}

/** A log record of a job a serving host took from the Router, for the broker's log. */
export interface JobLogMessage {
  type: "job-log";
  fn: string;
  jobId: string;
  pipelineId: string;
  record: LogRecord;
}

/** A serving host finished draining and left the Router. */
export interface DrainedMessage {
  type: "drained";
}

/** Everything a host sends the broker. */
export type HostMessage =
  | HelloMessage
  | ReadyMessage
  | DescribedMessage
  | LogMessage
  | JobLogMessage
  | DrainedMessage;

/** Parses a frame from a host. @throws {TypeError} when it is not a {@linkcode HostMessage}. */
export function parseHostMessage(value: unknown): HostMessage {
  const m = record(value, "message");
  switch (m.type) {
    case "hello":
      return { type: "hello", token: str(m, "token") };
    case "ready":
      return { type: "ready", pid: num(m, "pid"), key: str(m, "key") };
    case "described":
      return { type: "described", id: num(m, "id"), body: str(m, "body"), mac: str(m, "mac") };
    case "log":
      return parseLogMessage(m);
    case "job-log":
      return {
        type: "job-log",
        fn: str(m, "fn"),
        jobId: str(m, "jobId"),
        pipelineId: str(m, "pipelineId"),
        record: parseLogRecord(m.record),
      };
    case "drained":
      return { type: "drained" };
    default:
      throw new TypeError(`Unknown host message type ${JSON.stringify(m.type)}`);
  }
}

/** Parses a frame from the broker. @throws {TypeError} when it is not a {@linkcode HostRequest}. */
export function parseHostRequest(value: unknown): HostRequest {
  const m = record(value, "request");
  switch (m.type) {
    case "init":
      return {
        type: "init",
        socket: str(m, "socket"),
        token: str(m, "token"),
        ...(m.store === undefined ? {} : { store: parseStoreSpec(m.store) }),
        ...(m.limits === undefined ? {} : { limits: parseWorkerLimits(m.limits) }),
        ...(m.curve === undefined ? {} : { curve: parseCurve(m.curve) }),
      };
    case "describe":
      return {
        type: "describe",
        id: num(m, "id"),
        fn: str(m, "fn"),
        url: str(m, "url"),
        read: strings(m, "read"),
      };
    case "forget":
      return { type: "forget", fn: str(m, "fn") };
    case "serve":
      return {
        type: "serve",
        router: routerEndpoints("The serve request's router", strings(m, "router")),
        id: str(m, "id"),
        of: str(m, "of"),
        hostname: str(m, "hostname"),
        prefetch: num(m, "prefetch"),
        functions: servedFunctions(m.functions),
        ...(m.blackBox === undefined ? {} : { blackBox: str(m, "blackBox") }),
      };
    case "functions":
      return { type: "functions", functions: servedFunctions(m.functions) };
    case "drain":
      return { type: "drain", graceMs: num(m, "graceMs") };
    default:
      throw new TypeError(`Unknown host request type ${JSON.stringify(m.type)}`);
  }
}

function parseCurve(value: unknown): CurveClientKeys {
  const c = record(value, "curve");
  const keys = {
    serverKey: str(c, "serverKey"),
    publicKey: str(c, "publicKey"),
    secretKey: str(c, "secretKey"),
  };
  for (const [name, key] of Object.entries(keys)) {
    if (!isZ85Key(key)) throw new TypeError(`Expected "${name}" to be a Z85 key`);
  }
  return keys;
}

function servedFunctions(value: unknown): ServedFunction[] {
  if (!Array.isArray(value)) throw new TypeError("functions must be an array");
  return value.map((item) => {
    const f = record(item, "function");
    return {
      name: str(f, "name"),
      // The broker validated these; the worker constructor re-checks the permissions.
      config: validateConfig(f.config).config,
      url: str(f, "url"),
      version: num(f, "version"),
      permissions: parseWorkerPermissions(f.permissions),
      timeoutMs: num(f, "timeoutMs"),
    };
  });
}
