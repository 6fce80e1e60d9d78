/**
 * The broker's sandbox: `size` worker host processes ("slots"), each running one
 * job at a time in warm, per-function Web Workers with the function's own
 * permissions. Jobs wait in FIFO order when every slot is busy. A host that dies
 * (out of memory, crash) fails only its own job and is replaced.
 *
 * ```ts
 * const pool = new WorkerPool({ functionsDir: "functions", size: 2 });
 * await pool.start();
 * try {
 *   const outcome = await pool.run({ fn: "ok", input: { n: 1 }, jobId: "a", pipelineId: "p", attempt: 1 });
 * } finally {
 *   await pool.close();
 * }
 * ```
 *
 * @module
 */
import { resolve } from "node:path";
import { HOST_BOXES_DIR } from "./deno_flags.ts";
import { getLogger } from "../core/log.ts";
import type { HostLostEvent } from "../core/protocol/mod.ts";
import type { ErrorData, JsonObject } from "../core/types.ts";
import { SlotQueue } from "./_slot_queue.ts";
import { type FunctionChange, type FunctionEntry, FunctionRegistry } from "./function_registry.ts";
import {
  hostBaseRead,
  type HostExit,
  type HostFollowingJob,
  type HostJob,
  HostProcess,
  type HostProcessOptions,
} from "./host_process.ts";
import { hostPermissionFlags, workerPermissions } from "./permissions.ts";
import {
  functionNotFound,
  hostDeathError,
  jobCancelled,
  poolNotRunning,
  workerCrashed,
} from "./sandbox_errors.ts";
import { readBlackBox } from "./host_service.ts";
import type { LoadResult, RunResult } from "./sandbox_worker.ts";
import {
  type JobLogMessage,
  type LogRecord,
  runFieldsOf,
  type ServedFunction,
} from "./worker_protocol.ts";

export type { LogLevel, LogRecord } from "./worker_protocol.ts";

/** Heap limit of each isolate in a worker host, MiB, unless `heapMb` says otherwise. */
export const DEFAULT_HEAP_MB = 256;
/** A job's time limit when neither the request nor the function's config sets one. */
export const DEFAULT_TIMEOUT_MS = 300_000;
/** How long the describe host stays up with nothing to describe. */
const DESCRIBER_IDLE_MS = 10_000;
/** Times a job that never began (its host died under the job before it) is queued again. */
const MAX_REQUEUES = 3;
/** Log records kept per job; later ones are counted, not kept. */
const MAX_LOGS_PER_JOB = 1_000;

/** Settings of a {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Folder of function modules. */
  functionsDir: string;
  /** Worker host processes, i.e. jobs at once. */
  size: number;
  /** Heap limit of each isolate in a host, MiB. Default {@linkcode DEFAULT_HEAP_MB}. */
  heapMb?: number;
  /**
   * Jobs handed to one host at once (it runs them one at a time, back to back,
   * without a round trip per job). Default 1.
   */
  depth?: number;
  /** How long the describe host stays up with nothing to describe, ms. Default 10,000. */
  describerIdleMs?: number;
  /** The libzmq file for hosts that serve the Router themselves (see {@linkcode WorkerPool.serve}). */
  libzmq?: string;
  /** Receives the log records of jobs that serving hosts take from the Router. */
  onJobLog?: (message: JobLogMessage) => void;
  /** Told when a serving host died, with the job it took down, if any. */
  onHostLost?: (lost: HostLost) => void;
}

/** A serving host died: what its broker tells the Router (`host-lost`). */
export type HostLost = Omit<HostLostEvent, "type">;

/** Where serving hosts join: see {@linkcode WorkerPool.serve}. */
export interface ServeTarget {
  /** The Router's request endpoint. */
  router: string;
  /** The broker's id: host `k` joins as `<id>/host-<k>`. */
  id: string;
  /** The broker's host name. */
  hostname: string;
  /** Jobs per host taken ahead of time. */
  prefetch: number;
}

/** How long after a serving host died it is started again, ms (doubling while it keeps dying). */
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5_000;
/** How long a serving host whose permissions changed may finish its jobs before it restarts, ms. */
const RESTART_GRACE_MS = 60_000;

/** One job for {@linkcode WorkerPool.run}. */
export interface JobRequest {
  /** Function name. */
  fn: string;
  input: JsonObject;
  jobId: string;
  pipelineId: string;
  /** Attempt number, from 1. */
  attempt: number;
  /** Overrides the function's `config.timeoutMs`. */
  timeoutMs?: number;
  /** Aborting it cancels the job (queued or running). */
  signal?: AbortSignal;
}

/** The first job of a {@linkcode WorkerPool.runChain}. */
export interface ChainStart extends JobRequest {
  /** The document `input` was narrowed from, when it differs; followers read it. */
  document?: JsonObject;
}

/** A job that follows another in {@linkcode WorkerPool.runChain}; its input comes from that one. */
export type FollowingRequest = Omit<JobRequest, "input" | "pipelineId">;

/** How a job ended, with what it logged. `durationMs` is its run time, without queueing. */
export type JobOutcome =
  | { ok: true; output: JsonObject; durationMs: number; logs: LogRecord[] }
  | { ok: false; error: ErrorData; durationMs: number; logs: LogRecord[] };

/** Runs function modules in sandboxed, warm workers inside child processes. */
export class WorkerPool {
  readonly #functionsDir: string;
  readonly #size: number;
  readonly #heapMb: number;
  readonly #depth: number;
  readonly #describerIdleMs: number;
  /** Host restarts in progress, so runs sharing a host restart it once. */
  readonly #restarts = new Map<HostProcess, Promise<void>>();
  readonly #log = getLogger("broker", "pool");
  #state: "new" | "starting" | "running" | "closing" | "closed" = "new";
  #dir = "";
  #flags: string[] = [];
  #slots = new SlotQueue<HostProcess>([]);
  #describer: HostProcess | undefined;
  /** Describes in progress; the describe host stops after a while with none. */
  #describing = 0;
  #describerIdle: ReturnType<typeof setTimeout> | undefined;
  #describerStopping: Promise<void> | undefined;
  #registry: FunctionRegistry | undefined;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Host (re)starts in progress; `close()` waits for them so none is left behind. */
  #starts = new Set<Promise<void>>();
  /** Set by `serve()`: the hosts take their jobs from the Router themselves. */
  #serving: ServeTarget | undefined;
  /** The last target served, kept through a drain: a host that dies then is still reported. */
  #lastTarget: ServeTarget | undefined;
  /** Permission-change restarts, one host at a time (the others keep serving). */
  #restartQueue: Promise<void> = Promise.resolve();
  /** Hosts with such a restart pending. */
  readonly #restarting = new Set<HostProcess>();
  /** Delay before a serving host that died is started again, per host. */
  readonly #restartDelay = new Map<HostProcess, number>();
  /** Hosts told to serve since they started: their black box is theirs. */
  readonly #servedHosts = new Set<HostProcess>();
  /** Restart timers of serving hosts, cleared when the pool drains or closes. */
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #libzmq: string | undefined;
  readonly #onJobLog: ((message: JobLogMessage) => void) | undefined;
  readonly #onHostLost: ((lost: HostLost) => void) | undefined;
  /** The folder of the serving hosts' black boxes (see `HostServeRequest.blackBox`). */
  readonly #boxes = `${HOST_BOXES_DIR}/${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;

  /** @throws {RangeError} when `size` or `heapMb` is not a positive whole number. */
  constructor(options: WorkerPoolOptions) {
    const heapMb = options.heapMb ?? DEFAULT_HEAP_MB;
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new RangeError(`Pool size must be a whole number above 0, got ${options.size}`);
    }
    if (!Number.isInteger(heapMb) || heapMb < 16) {
      throw new RangeError(`Heap limit must be a whole number of MiB from 16, got ${heapMb}`);
    }
    this.#functionsDir = resolve(options.functionsDir);
    this.#size = options.size;
    this.#heapMb = heapMb;
    this.#depth = options.depth ?? 1;
    this.#describerIdleMs = options.describerIdleMs ?? DESCRIBER_IDLE_MS;
    this.#libzmq = options.libzmq;
    this.#onJobLog = options.onJobLog;
    this.#onHostLost = options.onHostLost;
    if (!Number.isInteger(this.#depth) || this.#depth < 1) {
      throw new RangeError(`Host depth must be a whole number above 0, got ${options.depth}`);
    }
  }

  /** Slots: jobs that can run at once. */
  get size(): number {
    return this.#size;
  }

  /** Slots in use: running a job, or restarting their host. */
  get busy(): number {
    return this.#slots.busy;
  }

  /** Process ids of the running worker hosts (for memory accounting). */
  get pids(): number[] {
    const hosts = [...this.#slots.items, ...(this.#describer ? [this.#describer] : [])];
    return hosts.flatMap((host) => host.pid === undefined ? [] : [host.pid]);
  }

  /** The functions it serves. @throws {Error} before `start()`. */
  get registry(): FunctionRegistry {
    if (!this.#registry) throw new Error("WorkerPool is not started");
    return this.#registry;
  }

  /**
   * Describes every function module, then starts the hosts. On failure everything
   * started is stopped again.
   *
   * @throws {Deno.errors.NotFound} when the functions folder does not exist.
   */
  start(): Promise<void> {
    if (this.#state !== "new") {
      return Promise.reject(new Error(`WorkerPool cannot start: it is ${this.#state}`));
    }
    this.#state = "starting";
    this.#starting = this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    try {
      this.#dir = await Deno.realPath(this.#functionsDir);
      const describer = this.#newHost(
        hostPermissionFlags([], { read: hostBaseRead(this.#dir) }, this.#dir),
      );
      this.#describer = describer;
      this.#registry = new FunctionRegistry({
        functionsDir: this.#dir,
        describe: (fn, url, read) => this.#describe(describer, fn, url, read),
      });
      await this.#track(describer.start());
      await this.#registry.start();
      this.#flags = this.#permissionFlags();
      this.#slots = new SlotQueue(
        Array.from({ length: this.#size }, () => this.#newSlotHost()),
        this.#depth,
      );
      await Promise.all(this.#slots.items.map((host) => this.#track(host.start())));
      this.#registry.onChange((change) => this.#onChange(change));
      if (this.#state !== "starting") throw new Error("WorkerPool was closed while starting");
      this.#state = "running";
    } catch (error) {
      await this.#shutdown();
      throw error;
    }
  }

  /**
   * Has every host serve the Router itself, as a broker of one slot (see
   * `host_service.ts`): jobs then go from the Router to the hosts with no hop through
   * this process. The pool keeps the hosts going: it hands them the function table
   * when it changes, and starts a host that died (or whose permissions changed) again.
   * `run()` is not for a serving pool.
   */
  serve(target: ServeTarget): void {
    if (this.#state !== "running") throw new Error(`WorkerPool cannot serve: it is ${this.#state}`);
    this.#serving = target;
    this.#lastTarget = target;
    for (const host of this.#slots.items) {
      if (host.alive) this.#serveHost(host);
      else this.#restartLater(host); // It died before it could serve.
    }
  }

  /** Has serving hosts finish what they took (up to `graceMs`) and leave the Router. */
  async drain(graceMs: number): Promise<void> {
    const target = this.#serving;
    this.#serving = undefined; // No restarts from now on.
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (target) await Promise.all(this.#slots.items.map((host) => host.drain(graceMs)));
  }

  #serveHost(host: HostProcess): void {
    const target = this.#serving;
    if (!target || !host.alive) return;
    this.#servedHosts.add(host);
    host.serve({
      type: "serve",
      router: target.router,
      id: this.#hostId(target, host),
      of: target.id,
      blackBox: this.#blackBox(host),
      hostname: target.hostname,
      prefetch: target.prefetch,
      functions: this.#served(),
    });
  }

  #hostId(target: ServeTarget, host: HostProcess): string {
    return `${target.id}/host-${this.#slots.items.indexOf(host)}`;
  }

  /** What serving hosts run: every function that loaded. */
  #served(): ServedFunction[] {
    return this.registry.list().filter((entry) => !entry.error).map((entry) =>
      this.#servedFunction(entry)
    );
  }

  /** What a host needs to run jobs of `entry`. */
  #servedFunction(entry: FunctionEntry): ServedFunction {
    return {
      name: entry.name,
      config: entry.config,
      url: entry.url,
      version: entry.version,
      permissions: workerPermissions(entry.config, this.registry.moduleRead(entry.name), this.#dir),
      timeoutMs: entry.config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
  }

  #blackBox(host: HostProcess): string {
    return `${this.#boxes}/host-${this.#slots.items.indexOf(host)}`;
  }

  /**
   * A serving host died: tell the Router which job took it down (from its black box,
   * which only a host that was told to serve has written), and start it again.
   */
  #hostExited(host: HostProcess, death: HostExit): void {
    const target = this.#lastTarget;
    if (!target || !this.#servedHosts.delete(host)) return;
    const running = readBlackBox(this.#blackBox(host));
    this.#onHostLost?.({
      host: this.#hostId(target, host),
      pid: death.pid,
      error: hostDeathError({
        fn: running?.fn,
        cancelled: false,
        stopping: false,
        ...death,
        heapMb: this.#heapMb,
      }),
      ...(running
        ? {
          running: {
            pipelineId: running.pipelineId,
            jobId: running.jobId,
            attempt: running.attempt,
          },
        }
        : {}),
    });
    if (this.#serving && this.#state === "running") this.#restartLater(host);
  }

  /** Starts a serving host that died again, a little later each time it keeps dying. */
  #restartLater(host: HostProcess): void {
    const delay = this.#restartDelay.get(host) ?? RESTART_MIN_MS;
    this.#restartDelay.set(host, Math.min(delay * 2, RESTART_MAX_MS));
    this.#later(delay, () => {
      if (!this.#serving || this.#state !== "running" || host.alive) return;
      this.#track(host.start(this.#flags)).then(
        () => {
          const pid = host.pid;
          // Back to the shortest delay once this process has lived a while.
          this.#later(RESTART_MAX_MS, () => {
            if (host.pid === pid) this.#restartDelay.delete(host);
          });
          this.#serveHost(host);
        },
        (error) => {
          this.#log.warn("Cannot restart a worker host: {error}", { error: String(error) });
          this.#restartLater(host);
        },
      );
    });
  }

  #later(ms: number, task: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      task();
    }, ms);
    this.#timers.add(timer);
  }

  /** A serving host whose permission flags are out of date: drain, restart, serve again. */
  async #restartServing(host: HostProcess): Promise<void> {
    await host.drain(RESTART_GRACE_MS); // Its jobs finish first, as in a broker's restart.
    await host.close();
    this.#servedHosts.delete(host);
    if (!this.#serving || this.#state !== "running") return;
    await this.#track(host.start(this.#flags));
    this.#serveHost(host);
  }

  /** Runs one job. Never throws: every failure is an outcome with `ok: false`. */
  run(request: JobRequest): Promise<JobOutcome> {
    return this.runChain(request, [])[0] as Promise<JobOutcome>;
  }

  /**
   * Runs `first`, then each of `rest` right after the one before it on the same
   * host, without a round trip through the broker, as long as they succeed. A
   * follower's input is the document of the job before it (`document`, or its
   * input) merged with that job's output, narrowed to the follower's `requires`.
   * Never throws: each job's outcome, or `undefined` for a job that never began
   * because one before it did not succeed.
   */
  runChain(
    first: ChainStart,
    rest: readonly FollowingRequest[],
  ): Promise<JobOutcome | undefined>[] {
    const outcomes: Promise<JobOutcome | undefined>[] = [];
    let before: Promise<JobOutcome | undefined> | undefined;
    for (const own of this.#chain(first, rest)) {
      const previous = before;
      before = previous
        ? Promise.all([previous, own]).then(([prior, mine]) => prior?.ok ? mine : undefined)
        : own;
      outcomes.push(before);
    }
    return outcomes;
  }

  /** Each job's outcome, whether or not the one before it succeeded. */
  #chain(first: ChainStart, rest: readonly FollowingRequest[]): Promise<JobOutcome>[] {
    const steps: readonly (JobRequest | FollowingRequest)[] = [first, ...rest];
    const logs = steps.map((): LogRecord[] => []);
    const done = steps.map(() => Promise.withResolvers<JobOutcome>());
    let started = performance.now();
    const failed = (at: number, error: ErrorData): JobOutcome => ({
      ok: false,
      error,
      durationMs: performance.now() - started,
      logs: logs[at]!,
    });
    const settle = (at: number, result: RunResult) => {
      started = Math.max(started, result.startedAt ?? started); // Not the wait in the host.
      done[at]!.resolve(
        result.ok
          ? {
            ok: true,
            output: result.output,
            durationMs: performance.now() - started,
            logs: logs[at]!,
          }
          : failed(at, result.error),
      );
    };
    const failAll = (error: ErrorData) =>
      steps.forEach((_, at) => done[at]!.resolve(failed(at, error)));
    const run = async (): Promise<void> => {
      if (this.#state !== "running") return failAll(poolNotRunning(this.#state));
      if (first.signal?.aborted) return failAll(jobCancelled(first.jobId));
      if (!this.#registry?.get(first.fn)) return failAll(functionNotFound(first.fn));
      // A job queued behind one that killed its host never began: it goes again (bounded).
      for (let tries = 1;; tries++) {
        const host = await this.#slots.acquire(first.signal);
        if (!host) {
          return failAll(
            this.#state === "running" ? jobCancelled(first.jobId) : poolNotRunning(this.#state),
          );
        }
        try {
          const entries = steps.map((step) => this.#registry!.get(step.fn));
          const entry = entries[0];
          if (!entry) return failAll(functionNotFound(first.fn));
          if (entry.error) return failAll(entry.error);
          // A follower this pool cannot run ends the chain: it fails when its turn comes.
          const cut = entries.findIndex((e, at) => at > 0 && (!e || e.error));
          const count = cut === -1 ? steps.length : cut;
          for (let at = count; at < steps.length; at++) {
            done[at]!.resolve(failed(at, entries[at]?.error ?? functionNotFound(steps[at]!.fn)));
          }
          try {
            await this.#ensureHost(host);
          } catch (error) {
            return failAll(workerCrashed((error as Error).message));
          }
          started = performance.now();
          const results = host.runChain(
            {
              job: this.#hostJob(entry, first),
              onLog: (record) => keep(logs[0]!, record),
              signal: first.signal,
            },
            rest.slice(0, count - 1).map((step, at) => ({
              job: this.#followingJob(entries[at + 1]!, step),
              onLog: (record) => keep(logs[at + 1]!, record),
              signal: step.signal,
            })),
          );
          const head = await results[0]!;
          if (!head.ok && head.notStarted) {
            await Promise.all(results); // The followers never began either.
            if (tries < MAX_REQUEUES) continue;
            return failAll(notStarted(first.jobId, tries));
          }
          settle(0, head);
          for (let at = 1; at < count; at++) settle(at, await results[at]!);
          return;
        } finally {
          this.#release(host);
        }
      }
    };
    run().catch((error) => failAll(workerCrashed(`Unexpected: ${(error as Error).message}`)));
    return done.map(({ promise }) => promise);
  }

  /** Stops every host (running jobs fail with `JobCancelledError`) and the folder watch. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#state === "starting") {
      this.#state = "closing";
      await this.#starting?.catch(() => {}); // It sees "closing" and shuts down itself.
    }
    await this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closing";
    clearTimeout(this.#describerIdle);
    this.#slots.close();
    await this.#registry?.close();
    await Promise.allSettled(this.#starts);
    await this.#describerStopping;
    await Promise.all([...this.#slots.items, this.#describer].map((host) => host?.close()));
    // A host that died last (and was not started again) left its black box behind.
    if (this.#libzmq) {
      try {
        Deno.removeSync(this.#boxes, { recursive: true });
      } catch {
        // Gone already, or no write permission (the broker's tasks grant it for
        // <TMPDIR>/pipelinin-hosts).
      }
    }
    this.#state = "closed";
  }

  #onChange(change: FunctionChange): void {
    for (const fn of [...change.changed, ...change.removed]) {
      for (const host of this.#slots.items) host.forget(fn);
    }
    const flags = this.#permissionFlags();
    const same = flags.join(" ") === this.#flags.join(" ");
    this.#flags = flags;
    if (this.#serving) {
      for (const host of this.#slots.items) {
        if (same) host.functions(this.#served());
        else if (!this.#restarting.has(host)) {
          // One host at a time, so that the others keep taking jobs meanwhile.
          this.#restarting.add(host);
          this.#restartQueue = this.#restartQueue
            .then(() => this.#restartServing(host))
            .catch((error) =>
              this.#log.warn("Cannot restart a worker host: {error}", { error: String(error) })
            )
            .finally(() => this.#restarting.delete(host));
        }
      }
      return;
    }
    if (same) return;
    // Idle hosts restart now; busy ones when their job ends.
    for (const host of this.#slots.items) if (this.#slots.take(host)) this.#refresh(host);
  }

  #hostJob(entry: FunctionEntry, request: ChainStart): HostJob {
    return {
      ...this.#runFields(entry, request),
      input: request.input,
      pipelineId: request.pipelineId,
      ...(request.document ? { document: request.document } : {}),
    };
  }

  #followingJob(entry: FunctionEntry, request: FollowingRequest): HostFollowingJob {
    const requires = entry.config.requires;
    return { ...this.#runFields(entry, request), ...(requires ? { requires: [...requires] } : {}) };
  }

  /** What a host needs to run any job of `entry`. */
  #runFields(entry: FunctionEntry, request: FollowingRequest) {
    return runFieldsOf(this.#servedFunction(entry), request);
  }

  /** A host of a slot: one that can serve the Router, and is started again when it dies then. */
  #newSlotHost(): HostProcess {
    const host: HostProcess = this.#newHost(this.#flags, {
      libzmq: this.#libzmq,
      onJobLog: this.#onJobLog,
      onExit: (death) => this.#hostExited(host, death),
    });
    return host;
  }

  #newHost(
    flags: readonly string[],
    serving: Pick<HostProcessOptions, "libzmq" | "onJobLog" | "onExit"> = {},
  ): HostProcess {
    return new HostProcess({
      ...serving,
      flags,
      heapMb: this.#heapMb,
      cwd: this.#dir,
      onStrayLog: (record) =>
        this.#log[record.level]("Function {fn} logged outside a job: {message}", {
          ...record.fields,
          message: record.message,
        }),
    });
  }

  /** The union of the permissions of the functions that loaded (and the black boxes). */
  #permissionFlags(): string[] {
    const loaded = this.registry.list().filter((entry) => !entry.error);
    // A host that may serve the Router writes its black box and reads PIPELININ_LIBZMQ.
    const serving = this.#libzmq ? { write: [this.#boxes], env: ["PIPELININ_LIBZMQ"] } : {};
    return hostPermissionFlags(
      loaded.map((entry) => entry.config),
      { read: hostBaseRead(this.#dir), ...serving },
      this.#dir,
    );
  }

  /**
   * Describes a module in the describe host, started when needed and stopped after
   * `describerIdleMs` without work: functions change rarely, and an idle Deno process
   * holds ~55 MB.
   */
  async #describe(host: HostProcess, fn: string, url: string, read: string[]): Promise<LoadResult> {
    clearTimeout(this.#describerIdle);
    this.#describing++;
    try {
      await this.#describerStopping;
      if (!host.alive) {
        try {
          await this.#track(host.start());
        } catch (error) {
          return { ok: false, error: workerCrashed((error as Error).message) };
        }
      }
      return await host.describe(fn, url, read);
    } finally {
      if (--this.#describing === 0 && this.#state !== "closing" && this.#state !== "closed") {
        this.#describerIdle = setTimeout(() => {
          this.#describerStopping = host.close().finally(() => {
            this.#describerStopping = undefined;
          });
        }, this.#describerIdleMs);
      }
    }
  }

  /**
   * (Re)starts a host when it died or its permission flags are out of date, once the
   * jobs already on it are done; runs sharing the host wait for that one restart.
   */
  async #ensureHost(host: HostProcess): Promise<void> {
    const restarting = this.#restarts.get(host);
    if (restarting) return await restarting;
    if (!this.#stale(host)) return;
    const restart = this.#track((async () => {
      // Out of date: the jobs already on it finish first; the ones waiting here run after.
      await host.drained();
      await host.close();
      if (this.#state !== "running") throw new Error(poolNotRunning(this.#state).message);
      await host.start(this.#flags);
    })()).finally(() => this.#restarts.delete(host));
    this.#restarts.set(host, restart);
    await restart;
  }

  /** Restarts a taken slot's host in the background, then gives the slot back. */
  #refresh(host: HostProcess): void {
    this.#ensureHost(host)
      .catch((error) =>
        this.#log.warn("Cannot restart a worker host: {error}", { error: String(error) })
      )
      .finally(() => this.#slots.release(host));
  }

  #track(start: Promise<void>): Promise<void> {
    this.#starts.add(start);
    return start.finally(() => this.#starts.delete(start));
  }

  /**
   * Gives a slot back after a job; a host that died or is out of date restarts first,
   * once its last job is done.
   */
  #release(host: HostProcess): void {
    if (this.#state === "running" && this.#stale(host) && this.#slots.holders(host) === 1) {
      this.#refresh(host);
    } else this.#slots.release(host);
  }

  /** Whether a host must restart: it died, or its permission flags are out of date. */
  #stale(host: HostProcess): boolean {
    return !host.alive || host.flags.join(" ") !== this.#flags.join(" ");
  }
}

/** A job whose hosts kept dying under the jobs before it: retryable, and no crash of its own. */
function notStarted(jobId: string, tries: number): ErrorData {
  return {
    name: "JobNotStartedError",
    message: `Job "${jobId}" never began: ${tries} times the job before it took its host down`,
    retryable: true,
  };
}

function keep(logs: LogRecord[], record: LogRecord): void {
  if (logs.length < MAX_LOGS_PER_JOB) logs.push(record);
  else if (logs.length === MAX_LOGS_PER_JOB) {
    logs.push({
      time: record.time,
      level: "warn",
      message: `Log records after the first ${MAX_LOGS_PER_JOB} were dropped`,
    });
  }
}
