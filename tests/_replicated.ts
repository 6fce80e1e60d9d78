/**
 * Test helper: Routers on one PostgreSQL store, each a subprocess on ports of its own.
 * A {@linkcode PgRouter} has peers (a broker, a pipeliner) pointed at it alone, which
 * wait until it binds; a {@linkcode PgPair} is two Routers with peers and a client
 * given both, which follow whichever is active. All are stopped by the test with
 * `await using`, also when it fails.
 *
 * @module
 */
import { PipelineManager } from "../mod.ts";
import { DAEMON_FLAGS } from "../deno_flags.ts";
import { brokerCommand, Daemon, freePort, pipelinerCommand, routerFlags } from "./_cluster.ts";

const root = new URL("..", import.meta.url).pathname;

/** What `/health` answered, or undefined when nothing answered. */
export interface Health {
  status: number;
  role?: string;
  active?: string | null;
}

/** Options of {@linkcode PgRouter.start}. */
export interface PgRouterOptions {
  /** The lease's TTL, ms. Default 1,500 (tests want quick takeovers). */
  leaseMs?: number;
  /** Brokers pointed at this Router. Default 1. */
  brokers?: number;
  /** Slots per broker. Default 2. */
  workers?: number;
  /** Pipeliners pointed at this Router. Default 1. */
  pipeliners?: number;
  /** More flags of the Router. */
  args?: string[];
}

/** One Router on PostgreSQL with its own peers and client. */
export class PgRouter implements AsyncDisposable {
  readonly name: string;
  readonly api: string;
  readonly broadcast: string;
  readonly http: string;
  readonly dataDir: string;
  readonly router: Daemon;
  readonly peers: Daemon[] = [];
  readonly manager: PipelineManager;

  private constructor(name: string, store: string, options: PgRouterOptions) {
    this.name = name;
    this.api = `tcp://127.0.0.1:${freePort()}`;
    this.broadcast = `tcp://127.0.0.1:${freePort()}`;
    this.http = `http://127.0.0.1:${freePort()}`;
    this.dataDir = Deno.makeTempDirSync({ prefix: `pipelinin-${name}-` });
    this.router = new Daemon(name, [
      "run",
      ...DAEMON_FLAGS.router,
      "router/main.ts",
      "--store",
      store,
      "--lease-ms",
      String(options.leaseMs ?? 1500),
      ...routerFlags(this, this.dataDir),
      "--heartbeat-ms",
      "500",
      "--peer-timeout-ms",
      "2000",
      ...(options.args ?? []),
    ], root);
    for (let i = 0; i < (options.brokers ?? 1); i++) {
      const command = brokerCommand(this.api, { workers: options.workers });
      this.peers.push(new Daemon(`${name}-broker-${i}`, command, root));
    }
    for (let i = 0; i < (options.pipeliners ?? 1); i++) {
      this.peers.push(new Daemon(`${name}-pipeliner-${i}`, pipelinerCommand(this.api), root));
    }
    this.manager = new PipelineManager({ api: this.api, broadcast: this.broadcast });
  }

  /** Starts the Router and its peers (it may come up active or standby). */
  static start(name: string, store: string, options: PgRouterOptions = {}): PgRouter {
    return new PgRouter(name, store, options);
  }

  /** `/health`, or undefined when the Router does not answer. */
  async health(): Promise<Health | undefined> {
    try {
      const response = await fetch(`${this.http}/health`, { signal: AbortSignal.timeout(2000) });
      const body = await response.json() as { role?: string; active?: string | null };
      return { status: response.status, role: body.role, active: body.active };
    } catch {
      return undefined;
    }
  }

  /** Waits until `/health` passes `check` (20 s at most). */
  async waitForHealth(
    check: (health: Health | undefined) => boolean,
    what: string,
  ): Promise<Health | undefined> {
    const deadline = Date.now() + 20_000;
    while (true) {
      const health = await this.health();
      if (check(health)) return health;
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name}: ${what} did not come (last /health ${
            JSON.stringify(health)
          })\n${this.logs()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits until a broker serves `fn` here. */
  async waitForFunction(fn: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (true) {
      try {
        const functions = await this.manager.functions();
        if (functions.some((f) => f.name === fn && f.brokers.length > 0)) return;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: "${fn}" not served\n${this.logs()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Every daemon's output, for failure messages. */
  logs(): string {
    return [this.router, ...this.peers]
      .map((d) => `--- ${d.name} ---\n${d.output.slice(-4000)}`)
      .join("\n");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.manager.close().catch(() => {});
    await Promise.all(this.peers.map((d) => d.stop()));
    await this.router.stop();
    await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
  }
}

/** Options of {@linkcode PgPair.start}. */
export interface PgPairOptions {
  leaseMs?: number;
  brokers?: number;
  workers?: number;
}

/** Two Routers on one database, and peers and a client that know both. */
export class PgPair implements AsyncDisposable {
  readonly a: PgRouter;
  readonly b: PgRouter;
  readonly peers: Daemon[] = [];
  readonly manager: PipelineManager;

  private constructor(a: PgRouter, b: PgRouter, options: PgPairOptions) {
    this.a = a;
    this.b = b;
    const both = `${a.api},${b.api}`;
    for (let i = 0; i < (options.brokers ?? 2); i++) {
      const command = brokerCommand(both, { workers: options.workers });
      this.peers.push(new Daemon(`broker-${i}`, command, root));
    }
    this.peers.push(new Daemon("pipeliner", pipelinerCommand(both), root));
    this.manager = new PipelineManager({
      api: [a.api, b.api],
      broadcast: [a.broadcast, b.broadcast],
    });
  }

  /** Starts A and waits until it is active, then B until it is standby, then the peers. */
  static async start(store: string, options: PgPairOptions = {}): Promise<PgPair> {
    const routers = { leaseMs: options.leaseMs, brokers: 0, pipeliners: 0 };
    const a = PgRouter.start("router-a", store, routers);
    let b: PgRouter | undefined;
    try {
      await a.waitForHealth((h) => h?.status === 200 && h.role === "active", "A active");
      b = PgRouter.start("router-b", store, routers);
      await b.waitForHealth((h) => h?.role === "standby", "B standby");
    } catch (error) {
      await Promise.all([a[Symbol.asyncDispose](), b?.[Symbol.asyncDispose]()]);
      throw error;
    }
    return new PgPair(a, b, options);
  }

  /** Waits until `n` brokers serve `fn` on the Router that answers the client. */
  async waitForBrokers(fn: string, n: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (true) {
      try {
        const functions = await this.manager.functions();
        if ((functions.find((f) => f.name === fn)?.brokers.length ?? 0) >= n) return;
      } catch { /* between Routers */ }
      if (Date.now() > deadline) throw new Error(`"${fn}" not on ${n} brokers\n${this.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  logs(): string {
    return [
      this.a.logs(),
      this.b.logs(),
      ...this.peers.map((d) => `--- ${d.name} ---\n${d.output.slice(-4000)}`),
    ]
      .join("\n");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.manager.close().catch(() => {});
    await Promise.all(this.peers.map((d) => d.stop()));
    await Promise.all([this.a[Symbol.asyncDispose](), this.b[Symbol.asyncDispose]()]);
  }
}
