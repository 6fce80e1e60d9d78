/**
 * The tcp endpoints bound by sockets of the process's shared engine, each with an
 * inproc alias that its binder binds too. Daemons that share a process (`deno task
 * start`) keep their tcp addresses in their config, yet their connects to one another
 * travel inproc: no loopback TCP, no kernel copies, no ZMTP framing. Peers in other
 * processes still connect over tcp to the same socket.
 *
 * @module
 */

/** One tcp bind and its alias. */
interface Bound {
  /** The endpoint libzmq resolved, e.g. `tcp://127.0.0.1:5555`. */
  endpoint: string;
  alias: string;
  /** Every spelling of the endpoint a connect may use. */
  keys: string[];
}

const WILDCARD_HOSTS = new Set(["0.0.0.0", "*"]);
let count = 0;

/** The spellings of a tcp endpoint that reach the socket bound there. */
function spellings(requested: string, resolved: string): string[] {
  const match = /^tcp:\/\/(.+):(\d+)$/.exec(resolved);
  if (!match) return [];
  const [, host, port] = match;
  const keys = new Set([resolved]);
  if (WILDCARD_HOSTS.has(host!) || host === "127.0.0.1") {
    keys.add(`tcp://127.0.0.1:${port}`);
    keys.add(`tcp://localhost:${port}`);
  }
  // A name (`tcp://localhost:5555`) resolved to an address: a connect may use the name.
  if (!/:0$/.test(requested) && !/^tcp:\/\/\*/.test(requested)) keys.add(requested);
  return [...keys];
}

/** Tcp endpoints with an inproc alias, by the socket that bound them. */
export class TcpAliases {
  readonly #byKey = new Map<string, string>();
  readonly #bySocket = new Map<object, Bound[]>();

  /** Where a connect to `endpoint` should go: its inproc alias when there is one. */
  route(endpoint: string): string {
    return this.#byKey.get(endpoint) ?? endpoint;
  }

  /**
   * Records that `socket` bound `requested` (libzmq resolved it as `resolved`) and
   * returns the inproc alias it should bind too, or undefined for a non-tcp endpoint.
   * Call {@linkcode remove} when binding the alias fails.
   */
  add(socket: object, requested: string, resolved: string): string | undefined {
    const keys = spellings(requested, resolved).filter((key) => !this.#byKey.has(key));
    if (keys.length === 0) return undefined;
    const alias = `inproc://pipelinin-tcp-${count++}/${resolved.slice("tcp://".length)}`;
    for (const key of keys) this.#byKey.set(key, alias);
    const list = this.#bySocket.get(socket) ?? [];
    list.push({ endpoint: resolved, alias, keys });
    this.#bySocket.set(socket, list);
    return alias;
  }

  /** The alias `socket` bound for `endpoint` (as `bind` returned it), if any. */
  aliasOf(socket: object, endpoint: string): string | undefined {
    return this.#bySocket.get(socket)?.find((bound) => bound.endpoint === endpoint)?.alias;
  }

  /** The tcp endpoint that `alias` stands for on `socket`, if it is one of its aliases. */
  endpointOf(socket: object, alias: string): string | undefined {
    return this.#bySocket.get(socket)?.find((bound) => bound.alias === alias)?.endpoint;
  }

  /** Forgets the alias of one endpoint of `socket` (it unbound it). */
  remove(socket: object, endpoint: string): void {
    const list = this.#bySocket.get(socket) ?? [];
    for (const bound of list.filter((b) => b.endpoint === endpoint || b.alias === endpoint)) {
      for (const key of bound.keys) this.#byKey.delete(key);
      list.splice(list.indexOf(bound), 1);
    }
    if (list.length === 0) this.#bySocket.delete(socket);
  }

  /** Forgets every alias of `socket` (it closed). */
  forget(socket: object): void {
    for (const bound of this.#bySocket.get(socket) ?? []) {
      for (const key of bound.keys) this.#byKey.delete(key);
    }
    this.#bySocket.delete(socket);
  }
}
