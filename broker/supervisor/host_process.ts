/**
 * The broker's side of one worker host process (`host/main.ts`):
 * spawns it, hands it what it serves, asks it to describe modules, relays its logs,
 * and notices when it dies ({@linkcode HostProcess.start} makes a new one).
 *
 * @module
 */
import { otelEnvironment } from "../../core/tracing/mod.ts";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getLogger } from "../../core/log.ts";
import { FrameWriter, pumpFrames } from "../messages/frames.ts";
import type { CurveClientKeys } from "../../core/curve_keys.ts";
import { HostChannel, type HostConnection, withSocket } from "./host_channel.ts";
import { lastLines, workerCrashed } from "../messages/errors.ts";
import type { DescribeResult } from "../messages/sandbox.ts";
import type { StoreSpec } from "../messages/store.ts";
import type { WorkerLimits } from "../messages/worker.ts";
import { importDescribeKey, verifyDescription } from "../messages/describe_mac.ts";
import { assertNever, type LogRecord, parseDescribeResult } from "../messages/sandbox.ts";
import {
  type DescribedMessage,
  type HostMessage,
  type HostRequest,
  type HostServeRequest,
  type JobLogMessage,
  parseHostMessage,
  type ServedFunction,
} from "../messages/host.ts";

const HOST_PATH = fileURLToPath(new URL("../host/main.ts", import.meta.url));
/** `broker/`: the host's own code, its Web Workers' entry and their messages. */
const BROKER_DIR = resolve(dirname(HOST_PATH), "..");
const START_TIMEOUT_MS = 15_000;
const STOP_KILL_MS = 2_000;
const STDERR_TAIL_CHARS = 16_384;

/**
 * What a host may read besides what functions declare: the functions (the broker's
 * own folder, if any, and the cache of the Router's) and its own code.
 */
export function hostBaseRead(functionsDir: string | undefined, shippedDir: string): string[] {
  return [
    ...(functionsDir ? [functionsDir] : []),
    shippedDir,
    BROKER_DIR,
    resolve(BROKER_DIR, "../core"),
  ];
}

/** How to start a host. */
export interface HostProcessOptions {
  /** Caps on what the host's Web Workers send back; absent: the defaults. */
  limits?: WorkerLimits;
  /** `--allow-*` flags: see `hostPermissionFlags`. */
  flags: readonly string[];
  /** V8 heap limit of each isolate in the host, MiB. */
  heapMb: number;
  /** Its working directory; a `deno.json` there (or above) applies to function modules. */
  cwd: string;
  /** Receives log records that belong to no job (e.g. an error in a stray timer). */
  onStrayLog?: (record: LogRecord) => void;
  /** Receives log records of the jobs the host takes from the Router while serving it. */
  onJobLog?: (message: JobLogMessage) => void;
  /** Called when the process ended by itself (not by `close()`), with how. */
  onExit?: (death: HostExit) => void;
  /** The libzmq file the host loads (in `PIPELININ_LIBZMQ`), when the broker knows it. */
  libzmq?: string;
  /** The store the host imports and runs each job through, if not the Router's. */
  store?: StoreSpec;
  /** The CURVE keys it joins the Router with, in its first frame (never in argv or env). */
  curve?: CurveClientKeys;
  /**
   * A folder of the broker's (it must write there, the host too) for the unix socket
   * the host connects to at start.
   */
  socketDir: string;
}

/** How a host process ended by itself. */
export interface HostExit {
  pid: number;
  status: Deno.CommandStatus;
  /** The end of its stderr. */
  stderr: string;
  /** Set when it was killed for writing a corrupt frame. */
  malformed?: string;
  /** It was describing a module then, whose code may be what killed it. */
  describing: boolean;
}

/** Whether a host was stopped by SIGINT or SIGTERM (Ctrl-C reaches its process group). */
export function interrupted(status: Deno.CommandStatus): boolean {
  return status.code === 130 || status.code === 143 || status.signal === "SIGINT" ||
    status.signal === "SIGTERM";
}

/** How long past its grace a draining host may take to say it is done, ms. */
const DRAIN_SLACK_MS = 5_000;

interface Pending {
  resolve: (result: DescribeResult) => void;
}

/** One worker host process, restartable. */
export class HostProcess {
  readonly #options: HostProcessOptions;
  readonly #log = getLogger("broker", "host");
  /** Describes sent and not answered yet. */
  readonly #pending = new Map<number, Pending>();
  #flags: readonly string[];
  #child: Deno.ChildProcess | undefined;
  #input: FrameWriter | undefined;
  #exited: Promise<void> = Promise.resolve();
  #ready: PromiseWithResolvers<void> | undefined;
  #stopping = false;
  #nextId = 1;
  /** Checks the host's describe replies: it said this key before any user code ran. */
  #key: Promise<CryptoKey> | undefined;
  /** Callers of `drain()`, until the host says `drained`. */
  readonly #drainedWaiters: Array<() => void> = [];

  constructor(options: HostProcessOptions) {
    this.#options = options;
    this.#flags = options.flags;
  }

  /** Its process id while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether it runs. */
  get alive(): boolean {
    return this.#child !== undefined;
  }

  /** The permission flags it runs (or will next run) with. */
  get flags(): readonly string[] {
    return this.#flags;
  }

  /**
   * Spawns the process (with `flags` when given) and waits until it reads requests.
   *
   * @throws {Error} when it exits or stays silent instead; its stderr is in the message.
   */
  async start(flags?: readonly string[]): Promise<void> {
    if (this.#child) throw new Error("Worker host is already running");
    if (flags) this.#flags = flags;
    const channel = new HostChannel(this.#options.socketDir, START_TIMEOUT_MS);
    const { socket, token } = channel;
    const args = [
      "run",
      "--unstable-worker-options",
      `--v8-flags=--max-old-space-size=${this.#options.heapMb}`,
      "--no-prompt",
      "--no-lock",
      // The ZeroMQ transport reads native pointers, which a path-scoped FFI permission
      // does not allow. Its Web Workers never get FFI. Reading PIPELININ_LIBZMQ is in
      // the flags (see `hostPermissionFlags`).
      "--allow-ffi",
      ...withSocket(this.#flags, socket),
      HOST_PATH,
    ];
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: this.#options.cwd,
      env: {
        NO_COLOR: "1",
        // With tracing on, the hosts export their spans as the broker would.
        ...otelEnvironment(),
        ...(this.#options.libzmq ? { PIPELININ_LIBZMQ: this.#options.libzmq } : {}),
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    // The only frame on stdin; then its end here closes, and the socket carries the rest.
    const first = new FrameWriter(child.stdin);
    void first.write({
      type: "init",
      socket,
      token,
      ...(this.#options.store ? { store: this.#options.store } : {}),
      ...(this.#options.limits ? { limits: this.#options.limits } : {}),
      ...(this.#options.curve ? { curve: this.#options.curve } : {}),
    }).catch(() => {}).then(() => first.close());
    this.#ready = Promise.withResolvers<void>();
    const stderr = { tail: "" };
    const connected = channel.accept();
    void child.status.finally(() => channel.cancel()); // Died before it connected.
    this.#exited = this.#supervise(child, stderr, connected);
    const timer = setTimeout(() => this.#ready?.reject(new Error("no answer")), START_TIMEOUT_MS);
    try {
      await this.#ready.promise;
    } catch (error) {
      this.#kill(child);
      await this.#exited;
      throw new Error(
        `Worker host failed to start (${(error as Error).message}): ${stderr.tail.trim()}`,
      );
    } finally {
      clearTimeout(timer);
      this.#ready = undefined;
    }
  }

  /**
   * Loads a module in a throwaway worker of the host that may only read `read`, and
   * describes it; the host's jobs go on meanwhile. Never throws.
   */
  describe(fn: string, url: string, read: string[]): Promise<DescribeResult> {
    return new Promise((resolve) => {
      if (!this.#child) {
        resolve({ ok: false, error: workerCrashed("Worker host is not running") });
        return;
      }
      const id = this.#nextId++;
      this.#pending.set(id, { resolve });
      this.#send({ type: "describe", id, fn, url, read });
    });
  }

  /** A description counts only when the host signed it (see `DescribedMessage`). */
  async #described(message: DescribedMessage): Promise<void> {
    const pending = this.#pending.get(message.id);
    const key = this.#key;
    if (!pending || !key) return;
    if (!await verifyDescription(await key, message.id, message.body, message.mac)) {
      this.#log.warn("Worker host {pid} sent a describe reply it did not sign: dropped", {
        pid: this.pid ?? 0,
      });
      return;
    }
    if (this.#pending.get(message.id) !== pending) return;
    this.#pending.delete(message.id);
    try {
      pending.resolve(parseDescribeResult(message.body));
    } catch (error) {
      pending.resolve({
        ok: false,
        error: workerCrashed(`Bad description from worker host: ${(error as Error).message}`),
      });
    }
  }

  /** Has the host serve the Router itself (see `host/service.ts`). */
  serve(request: HostServeRequest): void {
    if (this.#child) this.#send(request);
  }

  /** Hands a serving host its new function table. */
  functions(functions: ServedFunction[]): void {
    if (this.#child) this.#send({ type: "functions", functions });
  }

  /**
   * Has a serving host finish the jobs it took (up to `graceMs`) and leave the Router;
   * resolves when it did, or when it is gone.
   */
  async drain(graceMs: number): Promise<void> {
    if (!this.#child) return;
    const drained = Promise.withResolvers<void>();
    this.#drainedWaiters.push(drained.resolve);
    this.#send({ type: "drain", graceMs });
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A hung host does not hold its broker's stop: close() kills it after this.
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs + DRAIN_SLACK_MS);
    });
    await Promise.race([drained.promise, this.#exited, late]);
    clearTimeout(timer);
  }

  /** Drops the warm worker of `fn`, if any. */
  forget(fn: string): void {
    if (this.#child) this.#send({ type: "forget", fn });
  }

  /** Stops the process: closes its stdin, then kills it if it lingers. Pending jobs fail. */
  async close(): Promise<void> {
    const child = this.#child;
    if (!child) return await this.#exited;
    this.#stopping = true;
    await this.#input?.close();
    const timer = setTimeout(() => this.#kill(child), STOP_KILL_MS);
    await this.#exited;
    clearTimeout(timer);
    this.#stopping = false;
  }

  #send(request: HostRequest): void {
    // A failed write means the host is dying; #supervise fails what is pending.
    this.#input?.write(request).catch(() => {});
  }

  #kill(child: Deno.ChildProcess): void {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  async #supervise(
    child: Deno.ChildProcess,
    stderr: { tail: string },
    connected: Promise<HostConnection | undefined>,
  ): Promise<void> {
    // A function's code can write to both: never parsed. The end of stderr says why
    // a host died; stdout is dropped.
    const stderrDone = (async () => {
      for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
        stderr.tail = (stderr.tail + text).slice(-STDERR_TAIL_CHARS);
      }
    })();
    const stdoutDone = this.#dropStdout(child);
    let malformed: string | undefined;
    const channel = await connected;
    if (channel) {
      const { conn, rest } = channel;
      this.#input = new FrameWriter(conn.writable);
      try {
        await pumpFrames(conn.readable, (frame) => this.#receive(parseHostMessage(frame)), rest);
      } catch (error) {
        // A reset is the host ending (killed with its process group, say), not a bad frame.
        const ended = error instanceof Deno.errors.ConnectionReset ||
          error instanceof Deno.errors.BrokenPipe;
        if (!ended) malformed = (error as Error).message;
      }
      // The socket ended: the host is gone or going (a corrupt frame is a host bug).
      if (!this.#stopping) this.#kill(child);
    } else this.#kill(child);
    await stdoutDone.catch(() => {});
    const status = await child.status;
    await stderrDone.catch(() => {});
    await this.#input?.close();
    this.#child = undefined;
    this.#key = undefined; // The next process makes its own.
    this.#input = undefined;
    this.#ready?.reject(new Error(`exit code ${status.code}`));
    const failures = [...this.#pending.values()];
    this.#pending.clear();
    const how = status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
    const error = workerCrashed(`Worker host exited (${how}): ${lastLines(stderr.tail)}`);
    for (const pending of failures) pending.resolve({ ok: false, error });
    for (const resolve of this.#drainedWaiters.splice(0)) resolve();
    if (!this.#stopping) {
      this.#options.onExit?.({
        pid: child.pid,
        status,
        stderr: stderr.tail,
        ...(malformed ? { malformed } : {}),
        describing: failures.length > 0,
      });
    }
    if (!this.#stopping && !interrupted(status)) {
      this.#log.warn("Worker host {pid} exited (code {code}, signal {signal}): {stderr}", {
        pid: child.pid,
        code: status.code,
        signal: status.signal ?? "none",
        stderr: malformed ?? lastLines(stderr.tail),
      });
    }
  }

  /** Reads the host's stdout to its end, keeping nothing; says once that it was written to. */
  async #dropStdout(child: Deno.ChildProcess): Promise<void> {
    let said = false;
    for await (const _ of child.stdout) {
      if (said) continue;
      said = true;
      this.#log.debug("Worker host {pid} wrote to its stdout: dropped", { pid: child.pid });
    }
  }

  #receive(message: HostMessage): void {
    switch (message.type) {
      case "hello":
        return; // Taken by the HostChannel.
      case "ready": {
        const ready = this.#ready;
        if (!ready || this.#key) return; // Said once, before any user code ran.
        this.#key = importDescribeKey(message.key);
        this.#key.then(() => ready.resolve(), (error) => ready.reject(error));
        return;
      }
      case "described":
        void this.#described(message);
        return;
      case "log":
        this.#options.onStrayLog?.(message.record);
        return;
      case "job-log":
        this.#options.onJobLog?.(message);
        return;
      case "drained":
        for (const resolve of this.#drainedWaiters.splice(0)) resolve();
        return;
      default:
        assertNever(message);
    }
  }
}
