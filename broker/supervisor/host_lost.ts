/**
 * What a broker tells the Router when one of its serving hosts died (`host-lost`):
 * the error, and the job that took it down, from the host's black box.
 *
 * @module
 */
import type { HostLostEvent } from "../../core/protocol/mod.ts";
import { readBlackBox } from "../messages/black_box.ts";
import { hostDeathError } from "../messages/errors.ts";
import type { HostExit } from "./host_process.ts";

/** A serving host died: what its broker tells the Router. */
export type HostLost = Omit<HostLostEvent, "type">;

/** The report of host `host`'s death, its black box at `blackBox`. */
export function hostLost(
  host: string,
  death: HostExit,
  blackBox: string,
  heapMb: number,
): HostLost {
  // A module being described may have taken it down: no job is blamed then (a job
  // blamed often enough is poison).
  const running = death.describing ? undefined : readBlackBox(blackBox);
  return {
    host,
    pid: death.pid,
    error: hostDeathError({
      fn: running?.fn,
      cancelled: false,
      stopping: false,
      status: death.status,
      stderr: death.stderr,
      ...(death.malformed ? { malformed: death.malformed } : {}),
      heapMb,
    }),
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
