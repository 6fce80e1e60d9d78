/**
 * Test helper: a pipelinin cluster on separate hosts of a {@linkcode Network}: the
 * Router, brokers, pipeliners and a client each on a host of its own, talking over
 * the bridge's addresses, set up as `docs/tutorial.md` "More machines" says: a key
 * pair for the Router, each broker, the pipeliner and the client (mode 0600), an
 * allow-list with their roles, `PIPELININ_TOKEN` for HTTP, the Router shipping the
 * functions and each broker holding an empty folder of its own. Each daemon's
 * command line is built in one function here (`routerArgs`, `brokerArgs`,
 * `pipelinerArgs`, `clientArgs`).
 *
 * @module
 */
import type { PipelineResult, PipelineSpec } from "../mod.ts";
import { DAEMON_FLAGS } from "../deno_flags.ts";
import type { Daemon } from "./_cluster.ts";
import type { ChildProcess } from "./_helpers.ts";
import type { Network } from "./_netns.ts";
import { ClusterKeys, type KeyFile } from "./_curve.ts";

/**
 * What a cluster's daemons are given to reach each other: the keys (none with
 * `--insecure`), the HTTP token, the Router's functions and each broker's folder.
 */
export interface Deployment {
  /** Undefined: the Router runs `--insecure` (HTTP on its loopback only) and every peer plain. */
  keys: ClusterKeys | undefined;
  /** Each broker's own key, by host. */
  brokerKeys: Map<string, KeyFile>;
  /** `PIPELININ_TOKEN`, in a file (mode 0600) for the client. */
  token: string;
  tokenFile: string;
  /** The folder the Router ships. */
  functionsDir: string;
  /** Each broker's own folder, by host: empty, and it must stay so. */
  brokerDirs: Map<string, string>;
}

/** The Router's endpoints on its host's bridge address. */
export function endpoints(net: Network, router: string) {
  const address = net.address(router);
  return {
    api: `tcp://${address}:5555`,
    broadcast: `tcp://${address}:5556`,
    http: `http://${address}:8080`,
  };
}

/** The Router's command line: it binds its bridge address, neither loopback nor 0.0.0.0. */
export function routerArgs(
  net: Network,
  router: string,
  dataDir: string,
  deployment: Deployment,
): string[] {
  const { api, broadcast, http } = endpoints(net, router);
  const { keys } = deployment;
  return [
    "run",
    ...DAEMON_FLAGS.router,
    "router/main.ts",
    "--api",
    api,
    "--broadcast",
    broadcast,
    "--http",
    // Plain: HTTP stays on loopback, as a token would turn CURVE on (docs/security.md).
    keys ? http.slice("http://".length) : "127.0.0.1:8080",
    "--data-dir",
    dataDir,
    "--functions",
    deployment.functionsDir,
    ...(keys ? ["--curve-key", keys.router.file, "--allow", keys.allowFile] : ["--insecure"]),
  ];
}

/** A broker's command line, joining the Router on host `router` as `id`. */
export function brokerArgs(
  net: Network,
  router: string,
  { id, workers }: { id: string; workers: number },
  deployment: Deployment,
): string[] {
  const key = deployment.brokerKeys.get(id);
  return [
    "run",
    ...DAEMON_FLAGS.broker,
    "broker/main.ts",
    "--router",
    endpoints(net, router).api,
    "--id",
    id,
    "--functions",
    deployment.brokerDirs.get(id)!,
    "--workers",
    String(workers),
    "--heap-mb",
    "64",
    ...(key ? curveFlags(key, deployment) : []),
  ];
}

/** A broker's or pipeliner's CURVE flags: its key file and the Router's public key. */
function curveFlags(key: KeyFile, deployment: Deployment): string[] {
  // One argument: a Z85 key may start with "-", which a separate argument would read as a flag.
  return ["--curve-key", key.file, `--router-key=${deployment.keys!.router.keys.publicKey}`];
}

/** A pipeliner's command line. */
export function pipelinerArgs(net: Network, router: string, deployment: Deployment): string[] {
  const { keys } = deployment;
  return [
    "run",
    ...DAEMON_FLAGS.pipeliner,
    "pipeliner/main.ts",
    "--router",
    endpoints(net, router).api,
    ...(keys ? curveFlags(keys.pipeliner, deployment) : []),
  ];
}

/**
 * The client's command line (`tests/fixtures/netns_client.ts`): its key file and the
 * Router's public key (or `-` each, plain), and the token's file.
 */
export function clientArgs(net: Network, router: string, deployment: Deployment): string[] {
  const { keys } = deployment;
  const { api, broadcast, http } = endpoints(net, router);
  return [
    "run",
    "--allow-ffi",
    "--allow-read",
    "--allow-env",
    `--allow-net=${http.slice("http://".length)}`,
    "tests/fixtures/netns_client.ts",
    api,
    broadcast,
    http,
    keys?.client.file ?? "-",
    keys?.router.keys.publicKey ?? "-",
    deployment.tokenFile,
  ];
}

/** A broker as `GET /brokers` shows it (the fields the tests read). */
export interface BrokerView {
  id: string;
  /** Jobs its slots run now. */
  busy: number;
  /** When it joined, epoch ms. */
  since: number;
  hosts?: Array<{ id: string }>;
}

/** Options of {@linkcode HostCluster.start}. */
export interface HostClusterOptions {
  /** The Router's host. Default "router". */
  router?: string;
  /** The brokers' hosts; each broker's id is its host's name. */
  brokers: string[];
  /** The pipeliner's host, if one runs. */
  pipeliner?: string;
  /** The client's host. Default "client". */
  client?: string;
  /** The folder the Router ships to the brokers. Default `tests/fixtures/functions`. */
  functionsDir?: string;
  /** Slots per broker. Default 2. */
  workers?: number;
  /** Slots of particular brokers, by host, instead of `workers`. */
  slotsOf?: Record<string, number>;
  /** Functions served before the cluster counts as up. Default `["ok"]`. */
  waitFor?: string[];
  /** The Router `--insecure` and every peer plain, to show what CURVE hides. */
  insecure?: boolean;
}

/** The client on its host: the TS `PipelineManager` and `fetch`, one command at a time. */
export class HostClient {
  readonly #child: ChildProcess;

  constructor(child: ChildProcess) {
    this.#child = child;
  }

  async #ask<T>(command: unknown, ms: number): Promise<T> {
    await this.#child.say(JSON.stringify(command));
    const reply = await this.#child.nextJson<T & { error?: string }>(ms);
    if (reply.error) throw new Error(`The client failed: ${reply.error}`);
    return reply;
  }

  /** Submits each spec; their pipeline ids. */
  async submit(specs: PipelineSpec[]): Promise<string[]> {
    return (await this.#ask<{ ids: string[] }>({ submit: specs }, 60_000)).ids;
  }

  /** Waits for each pipeline to end. */
  async wait(ids: string[], timeoutMs = 45_000): Promise<PipelineResult[]> {
    const reply = await this.#ask<{ records: PipelineResult[] }>(
      { wait: ids, timeoutMs },
      timeoutMs + 10_000,
    );
    return reply.records;
  }

  /** GETs a path of the Router's HTTP API. */
  async get(path: string): Promise<{ status: number; body: string }> {
    return await this.#ask({ get: path }, 15_000);
  }

  /** Ends the client process. */
  async close(): Promise<void> {
    await this.#child[Symbol.asyncDispose]();
  }

  /** Waits until a broker serves each function, and each broker named has its slots up. */
  async served(
    functions: string[],
    brokers: Record<string, number> = {},
    timeoutMs = 30_000,
  ): Promise<void> {
    await this.#ask({ served: functions, brokers, timeoutMs }, timeoutMs + 10_000);
  }
}

/** A cluster on separate hosts; its daemons stop and its temp folder goes on dispose. */
export class HostCluster implements AsyncDisposable {
  readonly net: Network;
  readonly router: Daemon;
  readonly brokers = new Map<string, Daemon>();
  readonly pipeliners: Daemon[] = [];
  readonly client: HostClient;
  readonly deployment: Deployment;
  /** Keys, token, the Router's store and the brokers' folders. */
  readonly #root: string;
  readonly #options: HostClusterOptions;

  private constructor(net: Network, options: HostClusterOptions) {
    this.net = net;
    this.#options = options;
    this.#root = Deno.makeTempDirSync({ prefix: "pipelinin-netns-" });
    const keys = options.insecure ? undefined : new ClusterKeys(this.#root);
    const token = crypto.randomUUID();
    const tokenFile = `${this.#root}/token`;
    Deno.writeTextFileSync(tokenFile, token, { mode: 0o600 });
    this.deployment = {
      keys,
      brokerKeys: new Map(),
      token,
      tokenFile,
      functionsDir: options.functionsDir ?? "tests/fixtures/functions",
      brokerDirs: new Map(),
    };
    for (const host of options.brokers) this.#provision(host);
    this.#writeAllowList();
    const router = this.#routerHost;
    const dataDir = `${this.#root}/router`;
    this.router = net.spawn(
      router,
      "router",
      routerArgs(net, router, dataDir, this.deployment),
      keys ? { PIPELININ_TOKEN: token } : {},
    );
    this.client = new HostClient(
      net.child(options.client ?? "client", clientArgs(net, router, this.deployment)),
    );
  }

  /** Starts the daemons on their hosts and waits until the functions are served. */
  static async start(net: Network, options: HostClusterOptions): Promise<HostCluster> {
    const cluster = new HostCluster(net, options);
    try {
      for (const host of options.brokers) cluster.#spawnBroker(host);
      if (options.pipeliner) {
        cluster.pipeliners.push(
          net.spawn(
            options.pipeliner,
            "pipeliner",
            pipelinerArgs(net, cluster.#routerHost, cluster.deployment),
          ),
        );
      }
      // Every broker's slots up, so a test that wants both brokers used does not start
      // while one is still connecting. Seen on the Router's HTTP, which an insecure
      // Router keeps on its own loopback: there, a broker serving is all that is known.
      const slots = options.insecure
        ? {}
        : Object.fromEntries(options.brokers.map((host) => [host, cluster.#slotsOf(host)]));
      await cluster.client.served(options.waitFor ?? ["ok"], slots);
      return cluster;
    } catch (error) {
      const logs = net.logs();
      await cluster[Symbol.asyncDispose]();
      throw new Error(`${(error as Error).message}\n${logs}`);
    }
  }

  get #routerHost(): string {
    return this.#options.router ?? "router";
  }

  /** A key (unless insecure) and an empty functions folder for the broker on `host`. */
  #provision(host: string): void {
    const dir = `${this.#root}/functions-${host}`;
    Deno.mkdirSync(dir);
    this.deployment.brokerDirs.set(host, dir);
    if (this.deployment.keys) this.deployment.brokerKeys.set(host, this.deployment.keys.make(host));
  }

  /** The allow-list: each broker's key, the pipeliner's and the client's, with their roles. */
  #writeAllowList(): void {
    const { keys, brokerKeys } = this.deployment;
    keys?.writeAllowList([
      ...[...brokerKeys].map(([host, key]) => `${key.keys.publicKey} broker # ${host}`),
      `${keys.pipeliner.keys.publicKey} pipeliner`,
      `${keys.client.keys.publicKey} client`,
    ]);
  }

  #slotsOf(host: string): number {
    return this.#options.slotsOf?.[host] ?? this.#options.workers ?? 2;
  }

  #spawnBroker(host: string): Daemon {
    const broker = this.net.spawn(
      host,
      host,
      brokerArgs(this.net, this.#routerHost, {
        id: host,
        workers: this.#slotsOf(host),
      }, this.deployment),
    );
    this.brokers.set(host, broker);
    return broker;
  }

  /**
   * Starts one more broker on `host`, with the host's name as its id: as an operator
   * would, its key goes on the allow-list first, and it starts once the Router read it.
   */
  async addBroker(host: string): Promise<Daemon> {
    const reloaded = () => this.router.output.split("Allow-list reloaded").length;
    const before = reloaded();
    this.#provision(host);
    this.#writeAllowList();
    const deadline = Date.now() + 10_000;
    while (this.deployment.keys && reloaded() === before) {
      if (Date.now() > deadline) throw new Error(`The Router did not reload its allow-list`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.#spawnBroker(host);
  }

  /** What the brokers' own folders hold (`host/name`): nothing, as they run shipped functions. */
  async copiesOnBrokers(): Promise<string[]> {
    const found: string[] = [];
    for (const [host, dir] of this.deployment.brokerDirs) {
      for await (const entry of Deno.readDir(dir)) found.push(`${host}/${entry.name}`);
    }
    return found;
  }

  /** The Router's metric `name` summed over its label sets (0 when absent). */
  async metric(name: string): Promise<number> {
    const { body } = await this.client.get("/metrics");
    return body.split("\n")
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
  }

  /** The brokers the Router knows now (`GET /brokers`), with their hosts. */
  async brokersKnown(): Promise<BrokerView[]> {
    return JSON.parse((await this.client.get("/brokers")).body).brokers;
  }

  /** Stops the client and the daemons, the Router last; the network stays (its owner ends it). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.client.close();
    await Promise.all([...this.pipeliners, ...this.brokers.values()].map((d) => d.stop()));
    await this.router.stop();
    await Deno.remove(this.#root, { recursive: true }).catch(() => {});
  }
}

/** The broker (host name) a job's record says ran it: `<broker>/host-<k>` -> `<broker>`. */
export function brokerOf(job: { broker?: string }): string | undefined {
  return job.broker?.split("/")[0];
}
