/**
 * Describing a function module in one of the broker's serving hosts: a throwaway
 * Web Worker there loads it with no permissions but reading it, and the host's jobs
 * go on meanwhile. A host that dies under a describe is replaced by another, once:
 * the module's own code may be what killed it.
 *
 * @module
 */
import { workerCrashed } from "../messages/errors.ts";
import type { DescribeResult } from "../messages/sandbox.ts";
import type { HostProcess } from "./host_process.ts";

/** How long a describe waits for a host to be up (one restarting, say), ms. */
const DESCRIBE_WAIT_MS = 15_000;
/** Hosts a describe is tried on. */
const DESCRIBE_TRIES = 2;

/** Which host describes. */
export interface DescribeHosts {
  /** A host that is up, if any. */
  pick(): HostProcess | undefined;
  /** Starts a host when none is up, if that may be done now. */
  revive?: () => Promise<void>;
  /** Whether the pool closed. */
  closed(): boolean;
}

/** Describes module `fn` at `url`, reading only `read`. Never throws. */
export async function describeOnHosts(
  fn: string,
  url: string,
  read: string[],
  hosts: DescribeHosts,
): Promise<DescribeResult> {
  const deadline = Date.now() + DESCRIBE_WAIT_MS;
  let result: DescribeResult = {
    ok: false,
    error: workerCrashed(`No worker host was up to describe function "${fn}"`),
  };
  for (let tries = 0; tries < DESCRIBE_TRIES && !hosts.closed();) {
    const host = hosts.pick();
    if (!host && hosts.revive) {
      try {
        await hosts.revive();
      } catch {
        break;
      }
      continue;
    }
    if (!host) {
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    tries++;
    result = await host.describe(fn, url, read);
    if (result.ok || host.alive) return result;
  }
  return result;
}
