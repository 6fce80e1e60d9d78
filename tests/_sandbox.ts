/**
 * Shared pieces of the `sandbox_*` tests, which check the broker's sandbox from the
 * outside only: a real Router and broker (daemon subprocesses), pipelines submitted
 * through the client, outcomes read from the pipeline's record, and processes seen
 * through `/proc`. Nothing here imports broker code, so the tests hold whatever the
 * broker looks like inside.
 *
 * @module
 */
import { assert } from "./_assert.ts";
import type { Cluster } from "./_cluster.ts";
import { delay } from "./_helpers.ts";
import type { JobRecord, PipelineResult, PipelineSpec } from "../mod.ts";

const FIXTURES = new URL("./fixtures/functions/", import.meta.url);

/** Pipelines end well within this; a hung test fails with the cluster's logs instead. */
export const WAIT_MS = 30_000;

/**
 * Copies the fixtures to a fresh folder (`x.ts.txt` becomes `x.ts`, see
 * `syntax_error.ts.txt`) and writes `extra` files into it (name -> source).
 */
export async function fixtureCopy(extra: Record<string, string> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  for await (const entry of Deno.readDir(FIXTURES)) {
    if (!entry.isFile) continue;
    const target = entry.name.endsWith(".ts.txt") ? entry.name.slice(0, -4) : entry.name;
    await Deno.copyFile(new URL(entry.name, FIXTURES), `${dir}/${target}`);
  }
  for (const [name, source] of Object.entries(extra)) {
    await Deno.writeTextFile(`${dir}/${name}`, source);
  }
  return dir;
}

/** A temporary folder removed on dispose. */
export async function tempDir(extra: Record<string, string> = {}): Promise<
  AsyncDisposable & { path: string }
> {
  const path = await fixtureCopy(extra);
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** A temporary folder with `files` (relative path -> source), removed on dispose. */
export async function folder(files: Record<string, string>): Promise<
  AsyncDisposable & { path: string }
> {
  const path = await Deno.makeTempDir({ prefix: "pipelinin-shipped-" });
  for (const [name, source] of Object.entries(files)) {
    await Deno.mkdir(`${path}/${name}`.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeTextFile(`${path}/${name}`, source);
  }
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** A function that waits `input.ms` like `slow`, with its own limit of `timeoutMs`. */
export function slowWithLimit(timeoutMs: number): string {
  return `export const config = { timeoutMs: ${timeoutMs} };
export default (input, ctx) => {
  const ms = Number(input.ms ?? 200);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ waited: ms, startedAt: started, endedAt: Date.now() }), ms);
    ctx.signal.addEventListener("abort", () => { clearTimeout(timer); reject(ctx.signal.reason); });
  });
};
`;
}

/** A function that never settles and ignores its signal, allowed 20 s. */
export const HANGS_LONG = `export const config = { timeoutMs: 20000 };
export default () => new Promise(() => {});
`;

/** Submits a pipeline and waits for its end. */
export async function run(cluster: Cluster, spec: PipelineSpec): Promise<PipelineResult> {
  return await cluster.manager.wait(await cluster.manager.start(spec), { timeoutMs: WAIT_MS });
}

/** Runs a pipeline of one job of `fn` on `data`. */
export function runOne(
  cluster: Cluster,
  fn: string,
  data: Record<string, unknown> = {},
): Promise<PipelineResult> {
  return run(cluster, { graph: { [fn]: [] }, data: data as PipelineSpec["data"] });
}

/** The record of job `jobId` (the only job by default). */
export function jobOf(result: PipelineResult, jobId?: string): JobRecord {
  const job = jobId === undefined
    ? result.jobs.length === 1 ? result.jobs[0] : undefined
    : result.jobs.find((j) => j.jobId === jobId);
  assert(job, `no job ${jobId ?? "(the only one)"} in ${JSON.stringify(result)}`);
  return job;
}

/** The output of a job that must have succeeded. */
export function outputOf(result: PipelineResult, jobId?: string): Record<string, unknown> {
  const job = jobOf(result, jobId);
  assert(job.status === "succeeded" && job.output, `expected success, got ${JSON.stringify(job)}`);
  return job.output;
}

/** The error of a job that must have failed. */
export function errorOf(result: PipelineResult, jobId?: string) {
  const job = jobOf(result, jobId);
  assert(job.status === "failed" && job.error, `expected a failure, got ${JSON.stringify(job)}`);
  return job.error;
}

/** Waits until the pipeline's job `jobId` is running. */
export async function untilRunning(cluster: Cluster, id: string, jobId: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (true) {
    const job = (await cluster.manager.status(id)).jobs.find((j) => j.jobId === jobId);
    if (job?.status === "running") return;
    assert(Date.now() < deadline, `job ${jobId} never ran: ${JSON.stringify(job)}`);
    await delay(10);
  }
}

/** The parent process id of `pid`, or undefined once it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name, in parentheses, may hold spaces: the fields start after it.
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** Every process below `pid` (children, theirs, ...), from `/proc`. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const child = Number(entry.name);
    const parent = parentOf(child);
    if (parent !== undefined) parents.set(parent, [...(parents.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  for (let at = [pid]; at.length > 0;) {
    at = at.flatMap((p) => parents.get(p) ?? []);
    found.push(...at);
  }
  return found.sort((a, b) => a - b);
}

/** Those of `pids` that still run (a zombie, dead but not reaped, counts as gone). */
export function alive(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
    } catch {
      return false;
    }
  });
}
