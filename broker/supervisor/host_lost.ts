/**
 * What a broker tells the Router when one of its serving hosts died (`host-lost`):
 * the error, and the job that took it down, from the host's black box.
 *
 * @module
 */
import type { HostLostEvent } from "../../core/protocol/mod.ts";
import { readBlackBox } from "../messages/black_box.ts";
import { hostDeathError } from "../messages/errors.ts";
import { type HostExit, interrupted } from "./host_process.ts";

/** A serving host died: what its broker tells the Router. */
export type HostLost = Omit<HostLostEvent, "type">;

/** One slot of a host process: its routing id and its black box. */
export interface LostSlot {
  host: string;
  blackBox: string;
}

/**
 * The reports of a host process's death, one per slot it served. Each slot's running
 * job (from its black box) is blamed; when several ran, each error names the others,
 * since any of them may have filled the shared heap.
 */
export function hostLosts(slots: LostSlot[], death: HostExit, heapMb: number): HostLost[] {
  // A module being described may have taken it down: no job is blamed then (a job
  // blamed often enough is poison).
  const running = slots.map(({ blackBox }) =>
    death.describing ? undefined : readBlackBox(blackBox)
  );
  return slots.map(({ host }, at) => {
    const beside = running.flatMap((job, other) => other !== at && job ? [job.fn] : []);
    return hostLost(host, death, running[at], beside, heapMb);
  });
}

function hostLost(
  host: string,
  death: HostExit,
  running: ReturnType<typeof readBlackBox>,
  beside: string[],
  heapMb: number,
): HostLost {
  const error = hostDeathError({
    fn: running?.fn,
    cancelled: false,
    // Stopped by a signal, not by its job: no crash is counted.
    stopping: interrupted(death.status),
    status: death.status,
    stderr: death.stderr,
    ...(death.malformed ? { malformed: death.malformed } : {}),
    heapMb,
    ...(beside.length > 0 ? { beside } : {}),
  });
  return {
    host,
    pid: death.pid,
    error: error.crashed && beside.length > 0 ? { ...error, shared: true } : error,
    ...(running
      ? {
        running: {
          pipelineId: running.pipelineId,
          jobId: running.jobId,
          attempt: running.attempt,
        },
      }
      : {}),
  };
}
