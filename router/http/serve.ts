/**
 * Binds the HTTP front's app to a socket; apart from `createApp` so tests call
 * `app.request()` with no socket.
 *
 * @module
 */
import type { Logger } from "../../core/log.ts";

/** What answers HTTP requests: a Hono app, or a front that picks one per request. */
export interface Fetcher {
  fetch(request: Request): Response | Promise<Response>;
}

/** Binds the app on `host:port`; returns the server (shut it down to stop). */
export function serve(
  app: Fetcher,
  address: string,
  log: Logger,
): Deno.HttpServer<Deno.NetAddr> {
  const match = /^(.*):(\d+)$/.exec(address);
  if (!match) throw new RangeError(`HTTP address "${address}" is not host:port`);
  const hostname = match[1]!.replace(/^\[|\]$/g, "");
  return Deno.serve({
    hostname,
    port: Number(match[2]),
    onListen: ({ hostname, port }) =>
      log.info("HTTP on http://{hostname}:{port}/", { hostname, port }),
  }, (request) => app.fetch(request));
}
