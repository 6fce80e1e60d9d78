/**
 * The Router endpoints a peer is given: one, or a comma list of a cluster's Routers
 * (`tcp://a:5555,tcp://b:5555`). Only the active Router binds its ZeroMQ sockets, so a
 * peer connects to all of them and talks to whichever one is bound.
 *
 * @module
 */

/** The most Router endpoints one peer takes. */
export const MAX_ROUTER_ENDPOINTS = 16;

const TCP = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const IPC = /^ipc:\/\/[^,\s]+$/;
const INPROC = /^inproc:\/\/[^,\s]+$/;

/**
 * Parses and checks a list of Router endpoints: a comma list, or an array of them.
 * Each is `tcp://host:port` (a name or an address, not a wildcard), `ipc://path` or
 * `inproc://name`; none may appear twice.
 *
 * @param what Names the source in errors, e.g. `--router`.
 * @throws {TypeError} naming the bad endpoint, or for an empty list.
 */
export function routerEndpoints(what: string, value: string | readonly string[]): string[] {
  const given = typeof value === "string" ? value.split(",") : [...value];
  const endpoints = given.map((endpoint) => endpoint.trim());
  if (endpoints.length === 0 || endpoints.every((endpoint) => endpoint === "")) {
    throw new TypeError(`${what} wants at least one Router endpoint, like "tcp://127.0.0.1:5555"`);
  }
  if (endpoints.length > MAX_ROUTER_ENDPOINTS) {
    throw new TypeError(
      `${what} lists ${endpoints.length} Router endpoints; at most ${MAX_ROUTER_ENDPOINTS} are taken`,
    );
  }
  const seen = new Set<string>();
  for (const endpoint of endpoints) {
    const problem = endpointProblem(endpoint);
    if (problem) {
      throw new TypeError(`${what} has a bad Router endpoint "${endpoint}": ${problem}`);
    }
    if (seen.has(endpoint)) {
      throw new TypeError(`${what} lists the Router endpoint "${endpoint}" twice`);
    }
    seen.add(endpoint);
  }
  return endpoints;
}

function endpointProblem(endpoint: string): string | undefined {
  if (endpoint === "") return "empty (a stray comma?)";
  if (IPC.test(endpoint) || INPROC.test(endpoint)) return undefined;
  if (!endpoint.startsWith("tcp://")) {
    return "expected tcp://host:port, ipc://path or inproc://name";
  }
  const match = TCP.exec(endpoint);
  if (!match) return "expected tcp://host:port (a wildcard host is for binding, not connecting)";
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return `port ${match[2]} is not between 1 and 65535`;
  return undefined;
}
