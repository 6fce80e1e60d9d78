/**
 * Test helpers for schedules: the Router's HTTP API, and the pipelines a schedule
 * started, read from the Router's list.
 *
 * @module
 */
import type { Cluster } from "./_cluster.ts";
import type { PipelineRecord } from "../mod.ts";

/** A reply of the Router's HTTP API, its body taken to be a `T`. */
export interface HttpReply<T> {
  status: number;
  body: T;
}

/** What an error reply of the Router's HTTP API holds. */
export interface ErrorBody {
  error: string;
  name?: string;
  problems?: string[];
}

/** Calls the Router's HTTP API with a JSON body. */
export async function http<T = ErrorBody>(
  cluster: Cluster,
  method: string,
  path: string,
  body?: unknown,
): Promise<HttpReply<T>> {
  const response = await fetch(cluster.http + path, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() as T };
}

/** The pipelines schedule `id` started, oldest tick first. */
export async function startedBy(cluster: Cluster, id: string): Promise<PipelineRecord[]> {
  const { body } = await http<{ pipelines: PipelineRecord[] }>(
    cluster,
    "GET",
    "/pipelines?limit=500",
  );
  return body.pipelines.filter((p) => p.schedule?.id === id).sort((a, b) =>
    a.schedule!.at - b.schedule!.at
  );
}

/** Waits until the Router answers over HTTP (after a restart). */
export async function routerUp(cluster: Cluster, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      const response = await fetch(cluster.http + "/health");
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) throw new Error(`The Router did not come back\n${cluster.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sleeps until the wall clock is `offset` ms past a multiple of `period` ms. */
export async function alignTo(period: number, offset: number): Promise<void> {
  const now = Date.now();
  let wait = (offset - (now % period) + period) % period;
  if (wait < 20) wait += period;
  await new Promise((resolve) => setTimeout(resolve, wait));
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
