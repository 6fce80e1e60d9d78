/**
 * The broker's host and process load, as reported to the Router (the seed's
 * monitoring).
 *
 * @module
 */
import type { BrokerLoad } from "../../core/protocol/mod.ts";

/** Reads the current load; fields that cannot be read (no permission) are 0. */
export function readLoad(busy: number, slots: number, childPids: readonly number[]): BrokerLoad {
  let loadavg = 0, memoryUsed = 0, memoryTotal = 0;
  try {
    loadavg = Deno.loadavg()[0] ?? 0;
    const memory = Deno.systemMemoryInfo();
    memoryTotal = memory.total;
    memoryUsed = memory.total - memory.available;
  } catch {
    // No --allow-sys: report what we can.
  }
  let rss = Deno.memoryUsage().rss;
  for (const pid of childPids) rss += childRss(pid);
  return {
    busy,
    slots,
    loadavg,
    cpus: navigator.hardwareConcurrency,
    memoryUsed,
    memoryTotal,
    rss,
  };
}

const PAGE = 4096;

function childRss(pid: number): number {
  try {
    const statm = Deno.readTextFileSync(`/proc/${pid}/statm`);
    return Number(statm.split(" ")[1] ?? 0) * PAGE;
  } catch {
    return 0; // Not Linux, or gone.
  }
}
