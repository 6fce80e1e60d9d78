/**
 * What a Router may expose: ZeroMQ beyond loopback only with CURVE (or `--insecure`,
 * warned about at every start), and HTTP beyond loopback only with a token.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { RouterConfig } from "./mod.ts";

/** Whether a ZeroMQ endpoint can be reached from this machine only. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (endpoint.startsWith("inproc://") || endpoint.startsWith("ipc://")) return true;
  const match = /^tcp:\/\/(.+):(\d+|\*)$/.exec(endpoint);
  return match !== null && isLoopbackHost(match[1]!);
}

/** Whether a host (an address or `localhost`, IPv6 in brackets or not) is loopback. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return bare === "localhost" || bare === "::1" || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

/** What {@linkcode assertExposure} looks at. */
export interface Exposure {
  api: string;
  broadcast: string;
  /** HTTP `host:port`, or `off`. */
  http: string;
  curve: boolean;
  insecure: boolean;
  token: boolean;
}

/**
 * Refuses to expose plain ZeroMQ or unguarded HTTP beyond loopback.
 *
 * @throws {Error} saying what to set.
 */
export function assertExposure(exposure: Exposure, log: Logger): void {
  const open = [exposure.api, exposure.broadcast].filter((e) => !isLoopbackEndpoint(e));
  if (open.length > 0 && !exposure.curve) {
    if (!exposure.insecure) {
      throw new Error(
        `ZeroMQ endpoint "${
          open[0]
        }" is reachable beyond loopback, and CURVE is off: give --allow <file> (see docs/security.md), or --insecure to run without it`,
      );
    }
    log.warn(
      "INSECURE: ZeroMQ on {endpoints} without CURVE: anyone who reaches it can join as a broker or pipeliner, read documents and forge results",
      { endpoints: open.join(", ") },
    );
  }
  if (exposure.http === "off" || exposure.token) return;
  const host = exposure.http.replace(/:\d+$/, "");
  if (!isLoopbackHost(host)) {
    throw new Error(
      `HTTP on "${exposure.http}" is reachable beyond loopback: set PIPELININ_TOKEN to guard it`,
    );
  }
}

/** Refuses exposures that are not guarded; warns of CURVE with no allow-list. */
export function checkRouterConfig(config: RouterConfig, log: Logger): void {
  const curve = config.curve;
  assertExposure({
    api: config.api ?? "tcp://127.0.0.1:5555",
    broadcast: config.broadcast ?? "tcp://127.0.0.1:5556",
    http: config.http ?? "127.0.0.1:8080",
    curve: curve !== undefined,
    insecure: config.insecure ?? false,
    token: config.token !== undefined,
  }, log);
  if (curve && !curve.allowFile) {
    log.warn(
      "CURVE is on with no allow-list (--allow): only the keys it was handed (deno task start's own daemons and its client.key) can join",
    );
  }
}
