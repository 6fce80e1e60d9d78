/**
 * The broker's worker hosts: `size` slots in processes of up to `hostSlots` each, every
 * slot taking its jobs from the Router itself and running them one at a time in warm,
 * per-function Web Workers with the function's own permissions. The pool keeps them going: it hands them the
 * function table, starts one that died again (with back-off) and tells its broker
 * which job took it down, and restarts them, one at a time, when the union of the
 * functions' permissions changes.
 *
 * @module
 */
import { resolve } from "node:path";
import { HOST_BOXES_DIR } from "../deno_flags.ts";
import { getLogger } from "../../core/log.ts";
import type { FunctionChange } from "./function_registry.ts";
import { FunctionSources } from "./function_sources.ts";
import type { FunctionsManifestEvent } from "../../core/protocol/mod.ts";
import { hostFlags, servedFunctions } from "./host_table.ts";
import { type HostExit, HostProcess, type HostProcessOptions } from "./host_process.ts";
import { BackOff } from "./back_off.ts";
import { describeOnHosts } from "./describe.ts";
import { type HostLost, hostLosts } from "./host_lost.ts";
import type { DescribeResult } from "../messages/sandbox.ts";
import type { StoreSpec } from "../messages/store.ts";
import type { WorkerLimits } from "../messages/worker.ts";
import type { JobLogMessage } from "../messages/host.ts";
import type { CurveClientKeys } from "../../core/curve_keys.ts";
import {
  DEFAULT_HEAP_MB,
  DEFAULT_HOST_SLOTS,
  type HostPoolOptions,
  type ServeTarget,
} from "./host_pool_options.ts";

/** How long a serving host whose permissions changed may finish its jobs before it restarts, ms. */
const RESTART_GRACE_MS = 60_000;

/** Keeps a broker's worker hosts serving the Router. */
export class HostPool {
  readonly #size: number;
  readonly #hostSlots: number;
  readonly #heapMb: number;
  readonly #log = getLogger("broker", "pool");
  #state: "new" | "starting" | "running" | "closing" | "closed" = "new";
  /** The broker's own functions folder (symlink-free), if any. */
  #dir: string | undefined;
  #flags: string[] = [];
  #hosts: HostProcess[] = [];
  readonly #functions: FunctionSources;
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
  /** Hosts told to serve since they started: their black box is theirs. */
  readonly #servedHosts = new Set<HostProcess>();
  /** Restarts of hosts that died, cleared when the pool drains or closes. */
  readonly #backOff = new BackOff<HostProcess>();
  readonly #libzmq: string | undefined;
  readonly #store: StoreSpec | undefined;
  readonly #limits: WorkerLimits | undefined;
  readonly #onJobLog: ((message: JobLogMessage) => void) | undefined;
  readonly #onHostLost: ((lost: HostLost) => void) | undefined;
  readonly #curve: CurveClientKeys | undefined;
  readonly #secretFiles: string[];
  /** The folder of the serving hosts' black boxes (see `HostServeRequest.blackBox`). */
  readonly #boxes = `${HOST_BOXES_DIR}/${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  /** The cache of the Router's functions: beside the boxes, where hosts may not write. */
  readonly #shippedDir = `${this.#boxes}-functions`;

  /** @throws {RangeError} when `size` or `heapMb` is not a positive whole number. */
  constructor(options: HostPoolOptions) {
    const heapMb = options.heapMb ?? DEFAULT_HEAP_MB;
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new RangeError(`Pool size must be a whole number above 0, got ${options.size}`);
    }
    const hostSlots = options.hostSlots ?? DEFAULT_HOST_SLOTS;
    if (!Number.isInteger(hostSlots) || hostSlots < 1) {
      throw new RangeError(`Slots per host must be a whole number above 0, got ${hostSlots}`);
    }
    if (!Number.isInteger(heapMb) || heapMb < 16) {
      throw new RangeError(`Heap limit must be a whole number of MiB from 16, got ${heapMb}`);
    }
    this.#size = options.size;
    this.#hostSlots = hostSlots;
    this.#heapMb = heapMb;
    this.#libzmq = options.libzmq;
    this.#store = options.store;
    this.#limits = options.limits;
    this.#onJobLog = options.onJobLog;
    this.#onHostLost = options.onHostLost;
    const fetch = options.fetchFile;
    this.#functions = new FunctionSources({
      ...(options.functionsDir === undefined ? {} : { localDir: resolve(options.functionsDir) }),
      cacheDir: this.#shippedDir,
      describe: (fn, url, read) => this.#describe(fn, url, read),
      fetch: fetch ?? (() => Promise.reject(new Error("This broker fetches no files"))),
      maxPermissions: options.maxPermissions,
    });
    this.#curve = options.curve;
    this.#secretFiles = (options.secretFiles ?? []).map((path) => resolve(path));
  }

  /** Slots: jobs that can run at once. */
  get size(): number {
    return this.#size;
  }

  /** Worker host processes it keeps. */
  get hosts(): number {
    return Math.ceil(this.#size / this.#hostSlots);
  }

  /** Process ids of the running worker hosts (for memory accounting). */
  get pids(): number[] {
    return this.#hosts.flatMap((host) => host.pid === undefined ? [] : [host.pid]);
  }

  /** The functions it serves, from both sources. */
  get functions(): FunctionSources {
    return this.#functions;
  }

  /** Takes a manifest of the functions the Router ships (fetched in the background). */
  ship(manifest: FunctionsManifestEvent): void {
    if (this.#state === "running") this.functions.ship(manifest);
  }

  /**
   * Starts the first host, has it describe every function module, then starts the
   * others with the permissions the functions declare (and the first again, if they
   * declare any). On failure everything started is stopped again.
   *
   * @throws {Deno.errors.NotFound} when the functions folder does not exist.
   */
  start(): Promise<void> {
    if (this.#state !== "new") {
      return Promise.reject(new Error(`HostPool cannot start: it is ${this.#state}`));
    }
    this.#state = "starting";
    this.#starting = this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    try {
      this.#dir = await this.#functions.localFolder();
      // No function is known yet: the first host starts with what any host needs.
      this.#flags = this.#hostFlags();
      const hosts = Math.ceil(this.#size / this.#hostSlots);
      this.#hosts = Array.from({ length: hosts }, () => this.#newSlotHost());
      const [first, ...others] = this.#hosts;
      await this.#track(first!.start(this.#flags));
      await this.#functions.start();
      this.#flags = this.#hostFlags();
      await Promise.all([
        ...others.map((host) => this.#track(host.start(this.#flags))),
        this.#sameFlags(first!) ? Promise.resolve() : this.#track(
          first!.close().then(() => first!.start(this.#flags)),
        ),
      ]);
      this.#functions.onChange((change) => this.#onChange(change));
      if (this.#state !== "starting") throw new Error("HostPool was closed while starting");
      this.#state = "running";
    } catch (error) {
      await this.#shutdown();
      throw error;
    }
  }

  /**
   * Has every host serve the Router itself, as a broker of one slot (see
   * `host/service.ts`): jobs go from the Router to the hosts with no hop through
   * this process.
   */
  serve(target: ServeTarget): void {
    if (this.#state !== "running") throw new Error(`HostPool cannot serve: it is ${this.#state}`);
    this.#serving = target;
    this.#lastTarget = target;
    for (const host of this.#hosts) {
      if (host.alive) this.#serveHost(host);
      else this.#restartLater(host); // It died before it could serve.
    }
  }

  /** Has serving hosts finish what they took (up to `graceMs`) and leave the Router. */
  async drain(graceMs: number): Promise<void> {
    const target = this.#serving;
    this.#serving = undefined; // No restarts from now on.
    this.#backOff.clear();
    if (target) await Promise.all(this.#hosts.map((host) => host.drain(graceMs)));
  }

  #serveHost(host: HostProcess): void {
    const target = this.#serving;
    if (!target || !host.alive) return;
    this.#servedHosts.add(host);
    for (const slot of this.#slotsOf(host)) {
      host.serve({
        type: "serve",
        router: [...target.router],
        id: `${target.id}/host-${slot}`,
        of: target.id,
        blackBox: this.#blackBox(slot),
        hostname: target.hostname,
        prefetch: target.prefetch,
        functions: servedFunctions(this.functions),
      });
    }
  }

  /** The slots a host serves, by number: each joins the Router as `<broker>/host-<slot>`. */
  #slotsOf(host: HostProcess): number[] {
    const first = this.#hosts.indexOf(host) * this.#hostSlots;
    const last = Math.min(this.#size, first + this.#hostSlots);
    return Array.from({ length: last - first }, (_, at) => first + at);
  }

  #blackBox(slot: number): string {
    return `${this.#boxes}/host-${slot}`;
  }

  /**
   * A serving host died: tell the Router, for each of its slots, which job it took
   * down (from the slot's black box, which only a host told to serve has written), and
   * start it again.
   */
  #hostExited(host: HostProcess, death: HostExit): void {
    const target = this.#lastTarget;
    if (!target || !this.#servedHosts.delete(host)) return;
    const slots = this.#slotsOf(host);
    for (
      const lost of hostLosts(
        slots.map((slot) => ({
          host: `${target.id}/host-${slot}`,
          blackBox: this.#blackBox(slot),
        })),
        death,
        this.#heapMb,
      )
    ) {
      this.#onHostLost?.(lost);
    }
    if (this.#serving && this.#state === "running") this.#restartLater(host);
  }

  /** Starts a serving host that died again, a little later each time it keeps dying. */
  #restartLater(host: HostProcess): void {
    this.#backOff.after(host, () => {
      if (!this.#serving || this.#state !== "running" || host.alive) return;
      this.#track(host.start(this.#flags)).then(
        () => {
          const pid = host.pid;
          this.#backOff.started(host, () => host.pid === pid);
          this.#serveHost(host);
        },
        (error) => {
          this.#log.warn("Cannot restart a worker host: {error}", { error: String(error) });
          this.#restartLater(host);
        },
      );
    });
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
    await this.#functions.close();
    await Promise.allSettled(this.#starts);
    await Promise.all(this.#hosts.map((host) => host.close()));
    // A host that died last (and was not started again) left its black box behind.
    try {
      Deno.removeSync(this.#boxes, { recursive: true });
    } catch {
      // Gone already, or no write permission (the broker's tasks grant it for
      // <TMPDIR>/pipelinin-hosts).
    }
    this.#state = "closed";
  }

  #onChange(change: FunctionChange): void {
    for (const fn of [...change.changed, ...change.removed]) {
      for (const host of this.#hosts) host.forget(fn);
    }
    const flags = this.#hostFlags();
    const same = flags.join(" ") === this.#flags.join(" ");
    this.#flags = flags;
    if (!this.#serving) return;
    for (const host of this.#hosts) {
      if (same) host.functions(servedFunctions(this.functions));
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
  }

  /** A host of a slot: one that can serve the Router, and is started again when it dies then. */
  #newSlotHost(): HostProcess {
    const host: HostProcess = this.#newHost(this.#flags, {
      libzmq: this.#libzmq,
      store: this.#store,
      ...(this.#curve ? { curve: this.#curve } : {}),
      onJobLog: this.#onJobLog,
      onExit: (death) => this.#hostExited(host, death),
    });
    return host;
  }

  #newHost(
    flags: readonly string[],
    serving: Pick<HostProcessOptions, "libzmq" | "store" | "curve" | "onJobLog" | "onExit"> = {},
  ): HostProcess {
    return new HostProcess({
      ...serving,
      ...(this.#limits ? { limits: this.#limits } : {}),
      flags,
      heapMb: this.#heapMb,
      cwd: this.#dir ?? this.#shippedDir,
      socketDir: this.#boxes,
      onStrayLog: (record) =>
        this.#log[record.level]("Function {fn} logged outside a job: {message}", {
          ...record.fields,
          message: record.message,
        }),
    });
  }

  /** Describes a module in a serving host, preferring one that is not about to restart. */
  #describe(fn: string, url: string, read: string[]): Promise<DescribeResult> {
    return describeOnHosts(fn, url, read, {
      pick: () =>
        this.#hosts.find((h) => h.alive && !this.#restarting.has(h)) ??
          this.#hosts.find((h) => h.alive),
      // The first host died describing (a module's top-level code, say): start it again.
      revive: this.#state === "starting"
        ? () => this.#track(this.#hosts[0]!.start(this.#flags))
        : undefined,
      closed: () => this.#state === "closed",
    });
  }

  #hostFlags(): string[] {
    return hostFlags(this.functions, {
      functionsDir: this.#dir,
      shippedDir: this.#shippedDir,
      boxes: this.#boxes,
      store: this.#store,
      secrets: this.#secretFiles,
    });
  }

  #sameFlags(host: HostProcess): boolean {
    return host.flags.join(" ") === this.#flags.join(" ");
  }

  #track(start: Promise<void>): Promise<void> {
    this.#starts.add(start);
    return start.finally(() => this.#starts.delete(start));
  }
}
