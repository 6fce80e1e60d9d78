/**
 * Test helper: a real cluster of daemon subprocesses on free ports, stopped by the
 * test (also when it fails) with `await using`. Each daemon runs in its own process
 * (so a test can kill one), or with `oneProcess` all three in one, as `deno task
 * start` runs them.
 *
 * @module
 */
import { PipelineManager } from "../mod.ts";
import { CLUSTER_FLAGS, clusterEnv, DAEMON_FLAGS } from "../deno_flags.ts";
import { freePort } from "./_ports.ts";
import { ClusterKeys } from "./_curve.ts";

export { freePort };

const root = new URL("..", import.meta.url).pathname;

/** How a {@linkcode Daemon} is run, beyond its arguments. */
export interface DaemonOptions {
  /** The program; Deno by default. */
  command?: string;
  /**
   * Run it as the leader of a process group of its own, so that {@linkcode Daemon.stop}
   * ends whatever it started too (a broker's worker hosts), even when it is run
   * through a wrapper such as `ip netns exec`.
   */
  group?: boolean;
}

/** One daemon subprocess; its output is kept for failure messages. */
export class Daemon {
  readonly name: string;
  /** Set by a test that killed it on purpose. */
  killed = false;
  readonly #process: Deno.ChildProcess;
  readonly #output: string[] = [];
  readonly #done: Promise<void>;
  readonly #group: boolean;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(
    name: string,
    args: string[],
    cwd = root,
    env: Record<string, string> = {},
    options: DaemonOptions = {},
  ) {
    this.name = name;
    this.#group = options.group ?? false;
    this.#process = new Deno.Command(options.command ?? Deno.execPath(), {
      args,
      cwd,
      detached: this.#group,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: {
        PIPELININ_LOG_LEVEL: Deno.env.get("PIPELININ_LOG_LEVEL") ?? "info",
        NO_COLOR: "1",
        ...env,
      },
    }).spawn();
    this.status = this.#process.status;
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this.#output.push(chunk);
        if (Deno.env.get("PIPELININ_TEST_VERBOSE")) {
          Deno.stderr.writeSync(new TextEncoder().encode(chunk));
        }
      }
    };
    this.#done = Promise.all([collect(this.#process.stdout), collect(this.#process.stderr)]).then(
      () => {},
    );
  }

  /** The process id. */
  get pid(): number {
    return this.#process.pid;
  }

  /** What it printed so far. */
  get output(): string {
    return this.#output.join("");
  }

  /** Sends a signal; ignores a process that is gone. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#process.kill(signal);
    } catch { /* already gone */ }
  }

  /**
   * Stops it (SIGTERM, then SIGKILL after 5 s) and waits for its output to end. A
   * daemon run as a group has whatever of its group is left killed then, too.
   */
  async stop(): Promise<Deno.CommandStatus> {
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.#killAll("SIGKILL"), 5000);
    const status = await this.status;
    clearTimeout(timer);
    if (this.#group) this.#killAll("SIGKILL");
    await this.#done;
    return status;
  }

  /** Waits until its output holds `text`; fails after `timeoutMs` with what it printed. */
  async waitForOutput(text: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (Date.now() > deadline) {
        throw new Error(`${this.name} did not print "${text}" in time:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Signals its whole process group (or just it, when it has none of its own). */
  #killAll(signal: Deno.Signal): void {
    if (!this.#group) return this.kill(signal);
    try {
      Deno.kill(-this.#process.pid, signal);
    } catch { /* the group is gone */ }
  }
}

/** Options of {@linkcode startCluster}. */
export interface ClusterOptions {
  /** Function folder for the brokers. Default `tests/fixtures/functions`. */
  functionsDir?: string;
  /** Brokers to start. Default 1. */
  brokers?: number;
  /** Pipeliners to start. Default 1. */
  pipeliners?: number;
  /** Slots per broker. Default 2. */
  workers?: number;
  /** Extra router flags. */
  routerArgs?: string[];
  /** Extra broker flags. */
  brokerArgs?: string[];
  /** Extra Deno permission flags for brokers (e.g. `--allow-write=<dir>`). */
  brokerPermissions?: string[];
  /** The Router's store (`--store`): the embedded SQLite one by default. */
  store?: string;
  /** Data dir; a temp dir by default (removed at the end). */
  dataDir?: string;
  /** Functions that must be served before the cluster counts as up. */
  waitFor?: string[];
  /**
   * Run the Router, one Pipeliner and one Broker in one process (`main.ts`, as `deno
   * task start` does): `router` is then that process. `brokers`, `pipeliners`,
   * `routerArgs` and `brokerArgs` do not apply; `addBroker()` and `addPipeliner()`
   * still add separate ones.
   */
  oneProcess?: boolean;
  /**
   * Extra environment of every daemon (e.g. `OTEL_*`), and of the one-process cluster
   * (e.g. other `DENO_V8_FLAGS` to compare).
   */
  env?: Record<string, string>;
  /**
   * CURVE: keys for every daemon and the client (see `ClusterKeys`), the Router on
   * them with an allow-list of the broker, pipeliner and client keys.
   */
  curve?: boolean;
  /**
   * Routers the peers and the client know of, each on endpoints of its own (default
   * 1). One runs at a time, on the one data dir: Router `first` at start, another
   * after {@linkcode Cluster.startRouterAt}, as a standby does when it takes over.
   */
  routers?: number;
  /** With `routers`: the one started first. Default 0. */
  first?: number;
}

/** The endpoints of one Router of a cluster. */
export interface RouterEndpoints {
  api: string;
  broadcast: string;
  /** Its HTTP base URL, e.g. `http://127.0.0.1:41234`. */
  http: string;
}

/** A Router's listening flags: its endpoints and data dir. */
export function routerFlags(at: RouterEndpoints, dataDir: string): string[] {
  return [
    "--api",
    at.api,
    "--broadcast",
    at.broadcast,
    "--data-dir",
    dataDir,
    "--http",
    at.http.slice("http://".length),
  ];
}

/** A broker's `deno` arguments: `functionsDir` (the fixtures), `workers` slots, a 64 MB heap. */
export function brokerCommand(
  router: string,
  options: { functionsDir?: string; workers?: number; permissions?: string[]; args?: string[] },
): string[] {
  return [
    "run",
    ...DAEMON_FLAGS.broker,
    ...(options.permissions ?? []),
    "broker/main.ts",
    "--router",
    router,
    "--functions",
    options.functionsDir ?? "tests/fixtures/functions",
    "--workers",
    String(options.workers ?? 2),
    "--heap-mb",
    "64",
    ...(options.args ?? []),
  ];
}

/** A pipeliner's `deno` arguments. */
export function pipelinerCommand(router: string, args: string[] = []): string[] {
  return ["run", ...DAEMON_FLAGS.pipeliner, "pipeliner/main.ts", "--router", router, ...args];
}

/** A running cluster and a connected client. */
export class Cluster implements AsyncDisposable {
  /** Every Router's endpoints (one unless `routers` says more). */
  readonly routers: RouterEndpoints[];
  /** Which of {@linkcode routers} runs now. */
  current: number;
  readonly dataDir: string;
  /** The Router's process (with `oneProcess`, the whole cluster's). */
  readonly router: Daemon;
  readonly brokers: Daemon[] = [];
  readonly pipeliners: Daemon[] = [];
  readonly manager: PipelineManager;
  /** With `curve`: the keys and the allow-list. */
  readonly keys: ClusterKeys | undefined;
  readonly #ownsDataDir: boolean;
  readonly #options: ClusterOptions;

  private constructor(options: ClusterOptions) {
    this.#options = options;
    this.routers = Array.from({ length: options.routers ?? 1 }, () => ({
      api: `tcp://127.0.0.1:${freePort()}`,
      broadcast: `tcp://127.0.0.1:${freePort()}`,
      http: `http://127.0.0.1:${freePort()}`,
    }));
    this.current = options.first ?? 0;
    this.#ownsDataDir = !options.dataDir;
    this.dataDir = options.dataDir ?? Deno.makeTempDirSync({ prefix: "pipelinin-test-" });
    this.keys = options.curve ? new ClusterKeys(this.dataDir) : undefined;
    this.router = this.#startRouter();
    this.manager = new PipelineManager({
      api: this.routers.map((r) => r.api),
      broadcast: this.routers.map((r) => r.broadcast),
      ...(this.keys ? { curve: this.keys.clientOf(this.keys.client.keys) } : {}),
    });
  }

  /** Starts a router, brokers and pipeliners, and waits until the functions are served. */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const separateOnly = [
      options.brokers,
      options.pipeliners,
      options.routerArgs,
      options.brokerArgs,
    ];
    if (options.oneProcess && separateOnly.some((value) => value !== undefined)) {
      throw new TypeError("oneProcess runs one broker and one pipeliner with main.ts's flags");
    }
    const cluster = new Cluster(options);
    try {
      const separate = !options.oneProcess;
      for (let i = 0; separate && i < (options.brokers ?? 1); i++) cluster.addBroker();
      for (let i = 0; separate && i < (options.pipeliners ?? 1); i++) cluster.addPipeliner();
      await cluster.waitForFunctions(options.waitFor ?? ["ok"]);
      return cluster;
    } catch (error) {
      await cluster[Symbol.asyncDispose]();
      throw error;
    }
  }

  /** The running Router's request endpoint. */
  get api(): string {
    return this.routers[this.current]!.api;
  }

  /** The running Router's broadcast endpoint. */
  get broadcast(): string {
    return this.routers[this.current]!.broadcast;
  }

  /** The running Router's HTTP base URL, e.g. `http://127.0.0.1:41234`. */
  get http(): string {
    return this.routers[this.current]!.http;
  }

  /** What peers are given: every Router's request endpoint, as a comma list. */
  get peerApi(): string {
    return this.routers.map((r) => r.api).join(",");
  }

  #startRouter(dataDir = this.dataDir): Daemon {
    if (this.#options.oneProcess) return this.#startOneProcess();
    return new Daemon(
      "router",
      [
        "run",
        ...DAEMON_FLAGS.router,
        "router/main.ts",
        ...routerFlags(this, dataDir),
        ...(this.#options.store ? ["--store", this.#options.store] : []),
        ...this.#routerCurveFlags(),
        ...(this.#options.routerArgs ?? []),
      ],
      root,
      this.#options.env,
    );
  }

  #routerCurveFlags(): string[] {
    return this.keys ? ["--curve-key", this.keys.router.file, "--allow", this.keys.allowFile] : [];
  }

  /** The Router, a Pipeliner and a Broker in one process, as `deno task start` runs them. */
  #startOneProcess(): Daemon {
    return new Daemon(
      "cluster",
      [
        "run",
        ...CLUSTER_FLAGS,
        ...(this.#options.brokerPermissions ?? []),
        "main.ts",
        ...routerFlags(this, this.dataDir),
        "--functions",
        this.#options.functionsDir ?? "tests/fixtures/functions",
        "--workers",
        String(this.#options.workers ?? 2),
        ...(this.#options.store ? ["--store", this.#options.store] : []),
        ...this.#routerCurveFlags(),
      ],
      root,
      { ...clusterEnv(), ...this.#options.env },
    );
  }

  /** Restarts the router (after a kill) on the same endpoints and data dir. */
  restartRouter(): Daemon {
    const router = this.#startRouter();
    (this as { router: Daemon }).router = router;
    return router;
  }

  /**
   * Starts Router `index` on its own endpoints and the same data dir (after the one
   * running was stopped or killed): what a standby does when it takes over. With
   * `dataDir`, on that one instead (the caller removes it); the Router it replaces is
   * then the caller's to stop.
   */
  startRouterAt(index: number, dataDir?: string): Daemon {
    if (!this.routers[index]) throw new RangeError(`No Router ${index} in this cluster`);
    this.current = index;
    const router = this.#startRouter(dataDir);
    (this as { router: Daemon }).router = router;
    return router;
  }

  /** Starts one more broker (with `curve`, on the cluster's broker key unless `extra` gives one). */
  addBroker(extra: string[] = []): Daemon {
    const curve = this.keys && !extra.includes("--curve-key")
      ? this.keys.peerFlags(this.keys.broker)
      : [];
    const broker = new Daemon(
      `broker-${this.brokers.length}`,
      brokerCommand(this.peerApi, {
        functionsDir: this.#options.functionsDir,
        workers: this.#options.workers,
        permissions: this.#options.brokerPermissions,
        args: [...(this.#options.brokerArgs ?? []), ...curve, ...extra],
      }),
      root,
      this.#options.env,
    );
    this.brokers.push(broker);
    return broker;
  }

  /** Starts one more pipeliner. */
  addPipeliner(): Daemon {
    const pipeliner = new Daemon(
      `pipeliner-${this.pipeliners.length}`,
      pipelinerCommand(this.peerApi, this.keys ? this.keys.peerFlags(this.keys.pipeliner) : []),
      root,
      this.#options.env,
    );
    this.pipeliners.push(pipeliner);
    return pipeliner;
  }

  /** Waits until every named function is served by some broker (30 s at most). */
  async waitForFunctions(names: string[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      try {
        const served = new Set(
          (await this.manager.functions()).filter((f) => f.brokers.length > 0).map((f) => f.name),
        );
        if (names.every((name) => served.has(name))) return;
      } catch {
        // Router not up yet.
      }
      if (Date.now() > deadline) {
        throw new Error(`Functions ${names.join(", ")} not served in time.\n${this.logs()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Every daemon's output, for failure messages. */
  logs(): string {
    return [this.router, ...this.brokers, ...this.pipeliners]
      .map((d) => `--- ${d.name} ---\n${d.output.slice(-4000)}`)
      .join("\n");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.manager.close().catch(() => {});
    await Promise.all([...this.pipeliners, ...this.brokers].map((d) => d.stop()));
    await this.router.stop();
    if (this.#ownsDataDir) await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
  }
}
