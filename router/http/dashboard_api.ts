/**
 * The routes the dashboard works from beside listing and following: retry a
 * pipeline, one job with the input it was given, and per-function rates, failure
 * rates and queues. Each reads what the hub keeps (one pipeline, the queues, the
 * rate buckets), never a scan of the store.
 *
 * @module
 */
import type { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { initialState, inputOf, restrictInput, validatePipeline } from "../../core/dag/mod.ts";
import type { JsonObject } from "../../core/types.ts";
import type { RouterHub } from "../hub/hub.ts";
import { WINDOW_MS } from "./function_rates.ts";
import type { Metrics } from "./metrics.ts";

/** Longest idempotency key taken on a retry. */
const MAX_KEY = 256;

/** Adds the routes to `app`. */
export function dashboardApi(app: Hono, hub: RouterHub, metrics: Metrics): void {
  const { service, registry } = hub;

  app.post("/pipelines/:id/retry", async (c) => {
    const id = c.req.param("id");
    const key = c.req.header("idempotency-key") || undefined;
    if (key !== undefined && key.length > MAX_KEY) {
      throw new HTTPException(400, { message: `Idempotency-Key is longer than ${MAX_KEY}` });
    }
    const result = await hub.execute(() => service.retry(id, key));
    c.header("Location", `/pipelines/${result.pipelineId}`);
    return c.json({ id: result.pipelineId, status: result.status, retryOf: id }, 201);
  });

  app.get("/pipelines/:id/jobs/:jobId", (c) => {
    const record = service.get(c.req.param("id"));
    const jobId = c.req.param("jobId");
    const job = record.jobs.find((j) => j.jobId === jobId);
    if (!job) throw new HTTPException(404, { message: `Job "${jobId}" not found` });
    // The input as the pipeliner built it (data and its ancestors' outputs), then cut
    // to the keys the function `requires`, as its broker does.
    let input: JsonObject | undefined;
    try {
      const dag = validatePipeline(record.spec, { limits: service.limits });
      const state = initialState(dag, record.spec.data ?? {});
      for (const j of record.jobs) if (j.output) state.outputs[j.jobId] = j.output;
      input = restrictInput(inputOf(dag, state, jobId), registry.config(job.fn)?.requires);
    } catch {
      // A spec stored under limits since lowered: the job is shown without its input.
    }
    return c.json({ pipelineId: record.id, ...job, ...(input ? { input } : {}) });
  });

  app.get("/stats/functions", (c) => {
    const now = Date.now();
    const rates = metrics.functionRates.read(now);
    const queued = service.scheduler.queued();
    const running = new Map<string, number>();
    for (const attempt of service.scheduler.running.values()) {
      running.set(attempt.fn, (running.get(attempt.fn) ?? 0) + 1);
    }
    const served = new Map(registry.functions().map((f) => [f.name, f.brokers.length]));
    const names = new Set([...served.keys(), ...rates.keys(), ...queued.keys(), ...running.keys()]);
    return c.json({
      windowMs: WINDOW_MS,
      functions: [...names].sort().map((name) => {
        const rate = rates.get(name), queue = queued.get(name);
        return {
          name,
          brokers: served.get(name) ?? 0,
          queued: queue?.depth ?? 0,
          oldestQueuedMs: queue ? Math.max(0, now - queue.oldestAt) : 0,
          running: running.get(name) ?? 0,
          perMinute: rate?.perMinute ?? 0,
          failureRate: rate?.failureRate ?? 0,
          succeeded: rate?.succeeded ?? 0,
          failed: rate?.failed ?? 0,
        };
      }),
    });
  });
}
