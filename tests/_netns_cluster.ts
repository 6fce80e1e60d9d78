/**
 * Test helper: a pipelinin cluster on separate hosts of a {@linkcode Network}: the
 * Router, brokers, pipeliners and a client each on a host of its own, talking over
 * the bridge's addresses. Each daemon's command line is built in one function here
 * (`routerArgs`, `brokerArgs`, `pipelinerArgs`, `clientArgs`), so that what every
 * daemon needs to reach another host (keys, say) is added in one place.
 *
 * @module
 */
import type { PipelineResult, PipelineSpec } from "../mod.ts";
import { DAEMON_FLAGS } from "../deno_flags.ts";
import type { Daemon } from "./_cluster.ts";
import type { ChildProcess } from "./_helpers.ts";
import type { Network } from "./_netns.ts";

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
export function routerArgs(net: Network, router: string, dataDir: string): string[] {
  const { api, broadcast, http } = endpoints(net, router);
  return [
    "run",
    ...DAEMON_FLAGS.router,
    "router/main.ts",
    "--api",
    api,
    "--broadcast",
    broadcast,
    "--http",
    http.slice("http://".length),
    "--data-dir",
    dataDir,
  ];
}

/** A broker's command line, joining the Router on host `router` as `id`. */
export function brokerArgs(
  net: Network,
  router: string,
  { id, functionsDir, workers }: { id: string; functionsDir: string; workers: number },
): string[] {
  return [
    "run",
    ...DAEMON_FLAGS.broker,
    "broker/main.ts",
    "--router",
    endpoints(net, router).api,
    "--id",
    id,
    "--functions",
    functionsDir,
    "--workers",
    String(workers),
    "--heap-mb",
    "64",
  ];
}

/** A pipeliner's command line. */
export function pipelinerArgs(net: Network, router: string): string[] {
  return [
    "run",
    ...DAEMON_FLAGS.pipeliner,
    "pipeliner/main.ts",
    "--router",
    endpoints(net, router).api,
  ];
}

/** The client's command line (`tests/fixtures/netns_client.ts`). */
export function clientArgs(net: Network, router: string): string[] {
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
  /** Function folder of the brokers. Default `tests/fixtures/functions`. */
  functionsDir?: string;
  /** Slots per broker. Default 2. */
  workers?: number;
  /** Slots of particular brokers, by host, instead of `workers`. */
  slotsOf?: Record<string, number>;
  /** Functions served before the cluster counts as up. Default `["ok"]`. */
  waitFor?: string[];
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

  /** Waits until a broker serves each function. */
  async served(functions: string[], timeoutMs = 30_000): Promise<void> {
    await this.#ask({ served: functions, timeoutMs }, timeoutMs + 10_000);
  }
}

/** A cluster on separate hosts; its daemons stop and its store goes on dispose. */
export class HostCluster implements AsyncDisposable {
  readonly net: Network;
  readonly router: Daemon;
  readonly brokers = new Map<string, Daemon>();
  readonly pipeliners: Daemon[] = [];
  readonly client: HostClient;
  readonly #dataDir: string;
  readonly #options: HostClusterOptions;

  private constructor(net: Network, options: HostClusterOptions) {
    this.net = net;
    this.#options = options;
    this.#dataDir = Deno.makeTempDirSync({ prefix: "pipelinin-netns-" });
    const router = this.#routerHost;
    this.router = net.spawn(router, "router", routerArgs(net, router, this.#dataDir));
    this.client = new HostClient(net.child(options.client ?? "client", clientArgs(net, router)));
  }

  /** Starts the daemons on their hosts and waits until the functions are served. */
  static async start(net: Network, options: HostClusterOptions): Promise<HostCluster> {
    const cluster = new HostCluster(net, options);
    try {
      for (const host of options.brokers) cluster.addBroker(host);
      if (options.pipeliner) {
        cluster.pipeliners.push(
          net.spawn(options.pipeliner, "pipeliner", pipelinerArgs(net, cluster.#routerHost)),
        );
      }
      await cluster.client.served(options.waitFor ?? ["ok"]);
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

  /** Starts a broker on `host`, with the host's name as its id. */
  addBroker(host: string): Daemon {
    const broker = this.net.spawn(
      host,
      host,
      brokerArgs(this.net, this.#routerHost, {
        id: host,
        functionsDir: this.#options.functionsDir ?? "tests/fixtures/functions",
        workers: this.#options.slotsOf?.[host] ?? this.#options.workers ?? 2,
      }),
    );
    this.brokers.set(host, broker);
    return broker;
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
    await Deno.remove(this.#dataDir, { recursive: true }).catch(() => {});
  }
}

/** The broker (host name) a job's record says ran it: `<broker>/host-<k>` -> `<broker>`. */
export function brokerOf(job: { broker?: string }): string | undefined {
  return job.broker?.split("/")[0];
}
