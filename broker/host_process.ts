/**
 * The broker's side of one worker host process ({@linkcode ./worker_host.ts}):
 * spawns it, sends it requests, matches replies, and notices when it dies. A
 * host that dies fails its pending requests with `OutOfMemoryError` (when its
 * stderr says so) or `WorkerCrashedError`; {@linkcode HostProcess.start} makes a
 * new one.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getLogger } from "../core/log.ts";
import { FrameWriter, pumpFrames } from "./_frames.ts";
import { HeadTimer } from "../core/head_timer.ts";
import { hostDeathError, lastLines, workerCrashed } from "./sandbox_errors.ts";
import type { LoadResult, RunResult } from "./sandbox_worker.ts";
import {
  assertNever,
  type ErrorReply,
  type HostFollower,
  type HostMessage,
  type HostRequest,
  type HostRunRequest,
  type HostServeRequest,
  type JobLogMessage,
  type LogRecord,
  type OkReply,
  parseHostMessage,
  type ServedFunction,
} from "./worker_protocol.ts";

const HOST_PATH = fileURLToPath(new URL("./worker_host.ts", import.meta.url));
const BROKER_DIR = dirname(HOST_PATH);
const START_TIMEOUT_MS = 15_000;
/** A cancelled job whose host has not answered by then gets its host killed. */
const CANCEL_KILL_MS = 1_000;
/** Slack past a job's own limits before its host counts as hung (module load included). */
const HUNG_SLACK_MS = 15_000;
const STOP_KILL_MS = 2_000;
const STDERR_TAIL_CHARS = 16_384;

/** What a host may read besides what functions declare: the functions and its own code. */
export function hostBaseRead(functionsDir: string): string[] {
  return [functionsDir, BROKER_DIR, resolve(BROKER_DIR, "../core")];
}

/** How to start a host. */
export interface HostProcessOptions {
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
  /**
   * The libzmq file a serving host loads (its path goes in `PIPELININ_LIBZMQ`). Such a
   * host runs with `--allow-ffi`: the ZeroMQ transport reads native pointers, which a
   * path-scoped FFI permission does not allow. Its Web Workers never get FFI.
   */
  libzmq?: string;
}

/** How a host process ended by itself. */
export interface HostExit {
  pid: number;
  status: Deno.CommandStatus;
  /** The end of its stderr. */
  stderr: string;
  /** Set when it was killed for writing a corrupt frame. */
  malformed?: string;
}

/** How long past its grace a draining host may take to say it is done, ms. */
const DRAIN_SLACK_MS = 5_000;

/** A job for {@linkcode HostProcess.run}. */
export type HostJob = Omit<HostRunRequest, "type" | "id" | "then">;

/** A job that follows another in {@linkcode HostProcess.runChain}. */
export type HostFollowingJob = Omit<HostFollower, "id" | "then">;

/** One job of a chain, with where its logs go and what cancels it. */
export interface ChainStep<Job> {
  job: Job;
  onLog: (record: LogRecord) => void;
  signal?: AbortSignal;
}

interface Pending {
  fn: string;
  resolve: (reply: OkReply | ErrorReply) => void;
  onLog?: (record: LogRecord) => void;
  cancelled: boolean;
  /** A run's time limit; its hung-host clock starts when the runs before it end. */
  timeoutMs?: number;
  /** When the host counts as hung if this run has not ended (`performance.now()` ms). */
  hungAt?: number;
  /** Set when the host died before this run began: it may run again elsewhere. */
  notStarted?: boolean;
  /** `performance.now()` when it was sent. */
  sentAt?: number;
  /** When to kill the host if this cancelled, running run has not ended. */
  cancelKillAt?: number;
  /** The host was killed over this run. */
  killed?: boolean;
  /** It was the oldest pending request when answered (so the one after it began then). */
  wasHead?: boolean;
}

/** One worker host process, restartable. */
export class HostProcess {
  readonly #options: HostProcessOptions;
  readonly #log = getLogger("broker", "host");
  readonly #pending = new Map<number, Pending>();
  /** Kills the host when the run at the head overruns (a host always answers, unless hung). */
  readonly #headTimer = new HeadTimer(() => {
    const head = this.#pending.values().next().value;
    if (!head || head.killed || head.hungAt === undefined) return undefined;
    return Math.min(head.hungAt, head.cancelKillAt ?? Infinity);
  }, () => {
    const head = this.#pending.values().next().value;
    if (head) head.killed = true;
    if (this.#child) this.#kill(this.#child);
  });
  #flags: readonly string[];
  #child: Deno.ChildProcess | undefined;
  #input: FrameWriter | undefined;
  #exited: Promise<void> = Promise.resolve();
  #ready: PromiseWithResolvers<void> | undefined;
  #stopping = false;
  #nextId = 1;
  /** `performance.now()` of the last answer to a run. */
  #lastAnswerAt = 0;
  readonly #drainWaiters: Array<() => void> = [];
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
    const args = [
      "run",
      "--unstable-worker-options",
      `--v8-flags=--max-old-space-size=${this.#options.heapMb}`,
      "--no-prompt",
      "--no-lock",
      // Reading PIPELININ_LIBZMQ is in the flags (see `hostPermissionFlags`).
      ...(this.#options.libzmq ? ["--allow-ffi"] : []),
      ...this.#flags,
      HOST_PATH,
    ];
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: this.#options.cwd,
      env: {
        NO_COLOR: "1",
        ...(this.#options.libzmq ? { PIPELININ_LIBZMQ: this.#options.libzmq } : {}),
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#input = new FrameWriter(child.stdin);
    this.#ready = Promise.withResolvers<void>();
    const stderr = { tail: "" };
    this.#exited = this.#supervise(child, stderr);
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
   * Runs a job; never throws: a failure of any kind is a `{ ok: false }` result. Jobs
   * sent while others are pending queue behind them in the host, in order;
   * `notStarted` results (the host died first) may simply run again.
   */
  run(job: HostJob, onLog: (record: LogRecord) => void, signal?: AbortSignal): Promise<RunResult> {
    return this.runChain({ job, onLog, signal }, [])[0]!;
  }

  /**
   * Runs `first`, then each of `rest` right after the one before it, in this host and
   * before anything sent later, as long as they succeed; each follower's input is the
   * document of the one before merged with its output, narrowed to its `requires`.
   * One result per job, as {@linkcode run} gives; a follower whose predecessor did not
   * succeed gets an error and never begins.
   */
  runChain(
    first: ChainStep<HostJob>,
    rest: readonly ChainStep<HostFollowingJob>[],
  ): Promise<RunResult>[] {
    const steps = [first, ...rest].map((step) => ({
      step,
      id: this.#nextId++,
      pending: {
        fn: step.job.fn,
        resolve: () => {},
        onLog: step.onLog,
        cancelled: false,
        timeoutMs: step.job.timeoutMs,
        sentAt: performance.now(),
      } as Pending,
    }));
    let then: HostFollower | undefined;
    for (const { step, id } of steps.slice(1).reverse()) {
      then = { ...(step.job as HostFollowingJob), id, ...(then ? { then } : {}) };
    }
    const replies = steps.map(({ id, pending }) => this.#expect(id, pending));
    const request: HostRequest = {
      type: "run",
      id: steps[0]!.id,
      ...first.job,
      ...(then ? { then } : {}),
    };
    if (this.#child) this.#send(request);
    this.#watchHead();
    return steps.map(({ step, id, pending }, at) =>
      this.#result(id, pending, replies[at]!, step.signal)
    );
  }

  /** Cancels the run on abort, and reads its reply as a {@linkcode RunResult}. */
  #result(
    id: number,
    pending: Pending,
    reply: Promise<OkReply | ErrorReply>,
    signal: AbortSignal | undefined,
  ): Promise<RunResult> {
    const onAbort = () => {
      pending.cancelled = true;
      this.#send({ type: "cancel", id });
      // A queued run is dropped at once; only the running one may need the host killed.
      this.#watchHead();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    return reply.then((message): RunResult => {
      // It began when it was sent or when the job before it ended, whichever was later.
      const startedAt = Math.max(pending.sentAt!, this.#lastAnswerAt);
      if (pending.wasHead) this.#lastAnswerAt = performance.now();
      signal?.removeEventListener("abort", onAbort);
      if (pending.notStarted && message.type === "error") {
        return { ok: false, error: message.error, notStarted: true };
      }
      if (message.type === "error") return { ok: false, error: message.error, startedAt };
      if (message.result.kind === "run") {
        return { ok: true, output: message.result.output, startedAt };
      }
      return {
        ok: false,
        error: workerCrashed(`Worker host answered a run with a ${message.result.kind}`),
      };
    });
  }

  /** Loads a module in a throwaway worker that may only read `read`, and describes it. */
  async describe(fn: string, url: string, read: string[]): Promise<LoadResult> {
    const id = this.#nextId++;
    const message = await this.#request({ type: "describe", id, fn, url, read }, {
      fn,
      resolve: () => {},
      cancelled: false,
    });
    if (message.type === "error") return { ok: false, error: message.error };
    if (message.result.kind === "describe") {
      return { ok: true, description: message.result.description };
    }
    return {
      ok: false,
      error: workerCrashed(`Worker host answered a describe with a ${message.result.kind}`),
    };
  }

  /** Runs sent and not answered yet. */
  get queued(): number {
    return this.#pending.size;
  }

  /**
   * The oldest pending request is the one running: a host that never answers it
   * (it always should) is killed, which fails that job.
   */
  #watchHead(): void {
    const head = this.#pending.values().next().value;
    if (head && head.timeoutMs !== undefined) {
      const now = performance.now();
      head.hungAt ??= now + head.timeoutMs + HUNG_SLACK_MS;
      if (head.cancelled) head.cancelKillAt ??= now + CANCEL_KILL_MS;
    }
    this.#headTimer.update();
  }

  /** Resolves once no request is pending (at once if none is). */
  drained(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#drainWaiters.push(resolve);
    return promise;
  }

  #settled(): void {
    if (this.#pending.size > 0) return;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }

  /** Has the host serve the Router itself (see `host_service.ts`). */
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

  #request(request: HostRequest & { id: number }, pending: Pending): Promise<OkReply | ErrorReply> {
    const reply = this.#expect(request.id, pending);
    if (this.#child) this.#send(request);
    return reply;
  }

  /** The reply to request `id`, once it is sent; an error at once when the host is down. */
  #expect(id: number, pending: Pending): Promise<OkReply | ErrorReply> {
    return new Promise((resolve) => {
      pending.resolve = resolve;
      if (!this.#child) {
        resolve({ type: "error", id: 0, error: workerCrashed("Worker host is not running") });
      } else this.#pending.set(id, pending);
    });
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

  async #supervise(child: Deno.ChildProcess, stderr: { tail: string }): Promise<void> {
    const stderrDone = (async () => {
      for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
        stderr.tail = (stderr.tail + text).slice(-STDERR_TAIL_CHARS);
      }
    })();
    let malformed: string | undefined;
    try {
      await pumpFrames(child.stdout, (frame) => this.#receive(parseHostMessage(frame)));
    } catch (error) {
      malformed = (error as Error).message;
      this.#kill(child);
    }
    const status = await child.status;
    await stderrDone.catch(() => {});
    await this.#input?.close();
    this.#child = undefined;
    this.#input = undefined;
    this.#ready?.reject(new Error(`exit code ${status.code}`));
    const failures = [...this.#pending.values()];
    this.#pending.clear();
    // The first was running; the ones behind it never began.
    for (const pending of failures.slice(1)) pending.notStarted = !pending.cancelled;
    this.#headTimer.cancel();
    for (const pending of failures) {
      pending.resolve({
        type: "error",
        id: 0,
        error: hostDeathError({
          fn: pending.fn,
          cancelled: pending.cancelled,
          stopping: this.#stopping,
          status,
          stderr: stderr.tail,
          malformed,
          heapMb: this.#options.heapMb,
        }),
      });
    }
    this.#settled();
    for (const resolve of this.#drainedWaiters.splice(0)) resolve();
    if (!this.#stopping) {
      this.#options.onExit?.({
        pid: child.pid,
        status,
        stderr: stderr.tail,
        ...(malformed ? { malformed } : {}),
      });
    }
    // Interrupted with its process group (Ctrl-C): the broker is stopping too.
    const interrupted = status.code === 130 || status.code === 143 ||
      status.signal === "SIGINT" || status.signal === "SIGTERM";
    if (!this.#stopping && !interrupted) {
      this.#log.warn("Worker host {pid} exited (code {code}, signal {signal}): {stderr}", {
        pid: child.pid,
        code: status.code,
        signal: status.signal ?? "none",
        stderr: malformed ?? lastLines(stderr.tail),
      });
    }
  }

  #receive(message: HostMessage): void {
    switch (message.type) {
      case "ready":
        this.#ready?.resolve();
        return;
      case "log": {
        const pending = message.id === null ? undefined : this.#pending.get(message.id);
        if (pending?.onLog) pending.onLog(message.record);
        else this.#options.onStrayLog?.(message.record);
        return;
      }
      case "job-log":
        this.#options.onJobLog?.(message);
        return;
      case "drained":
        for (const resolve of this.#drainedWaiters.splice(0)) resolve();
        return;
      case "ok":
      case "error": {
        const pending = this.#pending.get(message.id);
        if (pending) pending.wasHead = this.#pending.keys().next().value === message.id;
        this.#pending.delete(message.id);
        pending?.resolve(message);
        this.#watchHead();
        this.#settled();
        return;
      }
      default:
        assertNever(message);
    }
  }
}
