/**
 * A worker host's black box: a small file holding the job it is running, written by
 * the host before each job and read by its broker only when the host died, to tell
 * the Router which job took it down. One line of JSON, padded to a fixed size.
 *
 * @module
 */

/** The record's size: a line of the running job's ids, padded. */
export const BLACK_BOX_BYTES = 1024;

/** What a black box holds: the job its host was running, if any. */
export interface BlackBoxRecord {
  fn: string;
  pipelineId: string;
  jobId: string;
  attempt: number;
}

const encoder = new TextEncoder();

/** The bytes of a black box holding `job` (or no job). */
export function encodeBlackBox(job: BlackBoxRecord | undefined): Uint8Array {
  const text = job
    ? JSON.stringify({
      fn: job.fn,
      pipelineId: job.pipelineId,
      jobId: job.jobId,
      attempt: job.attempt,
    })
    : "{}";
  // One line, padded: what an earlier, longer line left after it is not read.
  return encoder.encode(`${text}\n`.padEnd(BLACK_BOX_BYTES));
}

/** Reads a black box left by a host that died; undefined when it held no job. */
export function readBlackBox(path: string): BlackBoxRecord | undefined {
  try {
    const line = Deno.readTextFileSync(path).split("\n")[0] ?? "";
    const record = JSON.parse(line) as Partial<BlackBoxRecord>;
    const { fn, pipelineId, jobId, attempt } = record;
    if (
      typeof fn === "string" && typeof pipelineId === "string" && typeof jobId === "string" &&
      Number.isInteger(attempt)
    ) return { fn, pipelineId, jobId, attempt: attempt! };
  } catch {
    // Missing or half written: no job in particular.
  }
  return undefined;
}
