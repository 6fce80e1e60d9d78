/**
 * Test harness: separate hosts on one machine, as Linux network namespaces joined by
 * a bridge. Each host is a namespace with `lo` and one `eth0` on a private /24; the
 * bridge lives in a namespace of its own, so nothing is added to the machine's own
 * network and deleting the namespaces removes every link. Needs root and `ip`
 * (iproute2); `capture()` needs `tcpdump`.
 *
 * ```ts
 * await using net = await Network.create({ hosts: ["router", "broker1"] });
 * const router = net.spawn("router", "router", ["run", "-A", "router/main.ts", ...]);
 * await net.cut("broker1"); // Its packets vanish, as with a pulled cable.
 * ```
 *
 * @module
 */
import { Daemon } from "./_cluster.ts";
import { ChildProcess } from "./_helpers.ts";

/** Why the namespace tests cannot run here, or undefined when they can. */
export async function netnsUnusable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "network namespaces are Linux only";
  if (Deno.uid() !== 0) return "network namespaces need root";
  const probe = `pl${Deno.pid}-probe`;
  const failed = await run("ip", ["netns", "add", probe]).then(() => undefined, (e: Error) => e);
  if (failed) return `"ip netns" is unusable: ${failed.message}`;
  await run("ip", ["netns", "del", probe]).catch(() => {});
  return undefined;
}

/**
 * Why the namespace tests are skipped here (said once on stderr), or undefined when
 * they run: `Deno.test({ ignore: netnsSkip !== undefined, ... })`.
 */
export const netnsSkip: string | undefined = await netnsUnusable();
if (netnsSkip) {
  Deno.stderr.writeSync(
    new TextEncoder().encode(`Network namespace tests skipped: ${netnsSkip}\n`),
  );
}

/** Runs a command to its end. @throws {Error} with its stderr when it fails. */
async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(`${command} ${args.join(" ")}: ${decoder.decode(output.stderr).trim()}`);
  }
  return decoder.decode(output.stdout);
}

/**
 * Kills what still runs in namespace `ns` (only processes this harness started can be
 * there) and waits until it is empty: a namespace's name can be deleted while
 * processes hold it, and they would live on in it.
 */
async function reap(ns: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (true) {
    const pids = (await run("ip", ["netns", "pids", ns])).split(/\s+/).filter(Boolean);
    if (pids.length === 0) return;
    if (Date.now() > deadline) throw new Error(`Processes ${pids} still run in "${ns}"`);
    for (const pid of pids) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch { /* gone meanwhile */ }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Networks made by this process, for unique names and subnets. */
let made = 0;

/** Options of {@linkcode Network.create}. */
export interface NetworkOptions {
  /** Host names, each a namespace with an address of its own (in this order, from .1). */
  hosts: string[];
}

/** Traffic on the bridge, as tcpdump prints it with `-A`. */
export interface Capture {
  /** Stops tcpdump and returns what it printed. */
  stop(): Promise<string>;
}

/** Hosts in namespaces on one bridge; every process, namespace and link goes on dispose. */
export class Network implements AsyncDisposable {
  /** What every namespace of this network is named after: `pl<pid>-<n>`. */
  readonly name: string;
  /** The first three octets of this network's /24, e.g. `10.42.7`. */
  readonly subnet: string;
  readonly #hosts: readonly string[];
  readonly #namespaces: string[] = [];
  readonly #daemons: Daemon[] = [];
  readonly #children: ChildProcess[] = [];

  private constructor(hosts: readonly string[]) {
    const n = made++;
    this.name = `pl${Deno.pid}-${n}`;
    // Unique per run and network, so that parallel runs never share a subnet (their
    // bridges are apart anyway, each in its own namespace).
    this.subnet = `10.${(Deno.pid >> 8) & 255}.${(Deno.pid + n) & 255}`;
    this.#hosts = hosts;
  }

  /**
   * Makes the namespaces, the bridge and a veth pair per host, with `lo` up in each.
   * On failure whatever was made is removed again.
   */
  static async create(options: NetworkOptions): Promise<Network> {
    const names = new Set(options.hosts);
    if (names.size !== options.hosts.length || names.size === 0 || names.size > 250) {
      throw new RangeError(`Hosts must be 1 to 250 distinct names, got ${options.hosts}`);
    }
    const net = new Network(options.hosts);
    try {
      await net.#build();
      return net;
    } catch (error) {
      await net[Symbol.asyncDispose]();
      throw error;
    }
  }

  async #build(): Promise<void> {
    const bridge = await this.#addNamespace(this.#bridgeNamespace);
    await run("ip", ["-n", bridge, "link", "add", "br0", "type", "bridge"]);
    await run("ip", ["-n", bridge, "link", "set", "br0", "up"]);
    for (const [i, host] of this.#hosts.entries()) {
      const ns = await this.#addNamespace(this.namespace(host));
      // Interface names have 15 characters at most: short ones, each in its namespace.
      await run("ip", [
        "-n",
        bridge,
        "link",
        "add",
        `h${i}`,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns,
      ]);
      await run("ip", ["-n", bridge, "link", "set", `h${i}`, "master", "br0", "up"]);
      await run("ip", ["-n", ns, "addr", "add", `${this.address(host)}/24`, "dev", "eth0"]);
      await run("ip", ["-n", ns, "link", "set", "eth0", "up"]);
      await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    }
  }

  async #addNamespace(ns: string): Promise<string> {
    await run("ip", ["netns", "add", ns]);
    this.#namespaces.push(ns);
    return ns;
  }

  get #bridgeNamespace(): string {
    return `${this.name}-bridge`;
  }

  #index(host: string): number {
    const i = this.#hosts.indexOf(host);
    if (i < 0) throw new RangeError(`No host "${host}" in this network`);
    return i;
  }

  /** The namespace of `host`. */
  namespace(host: string): string {
    this.#index(host);
    return `${this.name}-${host}`;
  }

  /** The address of `host` on the bridge, e.g. `10.42.7.1`. */
  address(host: string): string {
    return `${this.subnet}.${this.#index(host) + 1}`;
  }

  /**
   * Runs Deno with `args` on `host` (`ip netns exec <ns> deno ...`), as a process
   * group of its own that dispose ends.
   */
  spawn(host: string, name: string, args: string[], env: Record<string, string> = {}): Daemon {
    const daemon = new Daemon(
      name,
      ["netns", "exec", this.namespace(host), Deno.execPath(), ...args],
      undefined,
      env,
      { command: "ip", group: true },
    );
    this.#daemons.push(daemon);
    return daemon;
  }

  /** Runs Deno with `args` on `host` with a line protocol on stdin and stdout. */
  child(host: string, args: string[]): ChildProcess {
    const child = new ChildProcess("ip", [
      "netns",
      "exec",
      this.namespace(host),
      Deno.execPath(),
      ...args,
    ]);
    this.#children.push(child);
    return child;
  }

  /** Takes `host`'s link down at the bridge: what it sends or is sent is lost. */
  async cut(host: string): Promise<void> {
    await run("ip", ["-n", this.#bridgeNamespace, "link", "set", `h${this.#index(host)}`, "down"]);
  }

  /** Brings `host`'s link up again. */
  async restore(host: string): Promise<void> {
    await run("ip", ["-n", this.#bridgeNamespace, "link", "set", `h${this.#index(host)}`, "up"]);
  }

  /**
   * Starts tcpdump on the bridge (every packet, whole, printed as ASCII with `-A`),
   * optionally with a pcap filter; resolves once it listens.
   */
  async capture(filter: string[] = []): Promise<Capture> {
    const tcpdump = new Daemon(
      "tcpdump",
      [
        "netns",
        "exec",
        this.#bridgeNamespace,
        "tcpdump",
        "-i",
        "br0",
        "-n",
        "-l",
        "-A",
        "-s",
        "0",
        "--immediate-mode",
        ...filter,
      ],
      undefined,
      {},
      { command: "ip", group: true },
    );
    this.#daemons.push(tcpdump);
    await tcpdump.waitForOutput("listening on br0", 10_000);
    return {
      async stop() {
        await tcpdump.stop();
        return tcpdump.output;
      },
    };
  }

  /** Every process's output, for failure messages. */
  logs(): string {
    return this.#daemons.map((d) => `--- ${d.name} ---\n${d.output.slice(-4000)}`).join("\n");
  }

  /** Ends every process started here (and what they started), then deletes the namespaces. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.allSettled(this.#children.map((child) => child[Symbol.asyncDispose]()));
    await Promise.allSettled(this.#daemons.map((daemon) => daemon.stop()));
    // Deleting a namespace deletes its links, and a veth's peer with it.
    const failed: string[] = [];
    for (const ns of this.#namespaces.reverse()) {
      await reap(ns).catch((error: Error) => failed.push(error.message));
      await run("ip", ["netns", "del", ns]).catch((error: Error) => failed.push(error.message));
    }
    if (failed.length > 0) throw new Error(`Could not delete namespaces:\n${failed.join("\n")}`);
  }
}
