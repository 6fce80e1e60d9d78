/**
 * The Router's HTTP front (Hono): submit, list, inspect, follow (SSE) and cancel
 * pipelines; functions, brokers, health, Prometheus metrics, OpenAPI, and the live
 * dashboard at `/`. `createApp` builds the app (tests call `app.request()`);
 * `serve.ts` binds it.
 *
 * @module
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  ErrorName,
  NotActiveError,
  PipelineValidationError,
  ScheduleValidationError,
  toErrorData,
} from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import type { PipelineRecord } from "../../core/protocol/mod.ts";
import { noteEncodedSize } from "../../core/dag/mod.ts";
import { dashboardApi } from "./dashboard_api.ts";
import { dashboardPage } from "./dashboard_page.ts";
import { listFilter } from "./list_query.ts";
import type { Metrics } from "./metrics.ts";
import { openApi } from "./openapi.ts";
import { readJson } from "./body.ts";
import { mountDynamicRoutes } from "./dynamic_routes.ts";
import { addScheduleRoutes } from "./schedule_routes.ts";
import { follow, SseLimit } from "./sse.ts";
import { addLogRoutes } from "./log_routes.ts";
import { parseTraceparent } from "../../core/tracing/traceparent.ts";
import type { RouterHub } from "../hub/hub.ts";
import { ServiceError } from "../hub/pipelines/service.ts";

/** What the HTTP front needs. */
export interface HttpDeps {
  /** Every request goes to the hub; writes run as hub batches. */
  hub: RouterHub;
  metrics: Metrics;
  log: Logger;
  /** When set, every route but `/health` wants `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest accepted request body, bytes. */
  maxBodyBytes: number;
  /** Event streams (SSE) open at once, at most; more get 503. Default 1,000. */
  maxStreams?: number;
  /**
   * Said in `/health` by a Router among several (on PostgreSQL): `active`. A Router
   * that runs alone names no role.
   */
  role?: "active";
}

const ENDED = new Set(["succeeded", "failed", "cancelled"]);

const STATUS_OF: Record<string, 400 | 404 | 409 | 429 | 503> = {
  [ErrorName.PipelineValidation]: 400,
  [ErrorName.PipelineNotFound]: 404,
  [ErrorName.PipelineEnded]: 409,
  [ErrorName.JobNotWaiting]: 409,
  [ErrorName.InvalidSignal]: 400,
  [ErrorName.PipelineNotRetryable]: 409,
  [ErrorName.TooManyPipelines]: 429,
  [ErrorName.NoBroker]: 503,
  [ErrorName.ScheduleNotFound]: 404,
  [ErrorName.ScheduleExists]: 409,
  [ErrorName.TooManySchedules]: 429,
  [ErrorName.NotActive]: 503,
};

function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** A pipeline in a list: its jobs without outputs. */
function summary(record: PipelineRecord) {
  const { spec: _spec, document: _document, jobs, ...rest } = record;
  return { ...rest, jobs: jobs.map(({ jobId, fn, status }) => ({ jobId, fn, status })) };
}

/** Builds the app. */
export function createApp(deps: HttpDeps): Hono {
  const app = new Hono();
  const { hub, metrics } = deps;
  const { service, registry, store } = hub;
  const streams = new SseLimit(deps.maxStreams ?? 1000);

  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      return c.json({ error: error.message }, error.status);
    }
    if (error instanceof PipelineValidationError || error instanceof ScheduleValidationError) {
      return c.json({ error: error.message, problems: error.problems }, 400);
    }
    const status = error instanceof ServiceError || error instanceof NotActiveError
      ? STATUS_OF[error.name]
      : undefined;
    if (status) {
      if (status === 429 || status === 503) c.header("Retry-After", "1");
      return c.json({ error: error.message, name: error.name }, status);
    }
    deps.log.error("HTTP {method} {path} failed: {error}", {
      method: c.req.method,
      path: c.req.path,
      error: toErrorData(error).stack ?? String(error),
    });
    return c.json({ error: "Internal error" }, 500);
  });
  app.notFound((c) => c.json({ error: `No route for ${c.req.method} ${c.req.path}` }, 404));

  if (deps.token) {
    const token = deps.token;
    app.use("*", async (c, next) => {
      if (c.req.path === "/health") return await next();
      const header = c.req.header("authorization") ?? "";
      const given = header.startsWith("Bearer ") ? header.slice(7) : c.req.query("token") ?? "";
      // The dashboard page itself is public; it asks for the token and sends it.
      if (c.req.path === "/" || timingSafeEqual(given, token)) return await next();
      c.header("WWW-Authenticate", 'Bearer realm="pipelinin"');
      return c.json({ error: "A valid bearer token is required" }, 401);
    });
  }

  app.get("/", (c) => c.html(dashboardPage()));
  app.get("/health", (c) =>
    c.json({
      status: "ok",
      ...(deps.role ? { role: deps.role } : {}),
      brokers: registry.brokerCount,
      pipeliners: registry.pipeliners.size,
      active: service.activeCount,
    }));
  app.get("/openapi.json", (c) => c.json(openApi()));

  app.post("/pipelines", async (c) => {
    const { body, bytes } = await readJson(c.req.raw, deps.maxBodyBytes, "the pipeline");
    // Validation bounds `data` by the body's size instead of encoding it again.
    if (typeof body === "object" && body !== null) noteEncodedSize(body, bytes.length);
    const key = c.req.header("idempotency-key") || undefined;
    // W3C: a malformed traceparent is ignored, and the pipeline starts a trace of its own.
    const parent = parseTraceparent(c.req.header("traceparent"))?.traceparent;
    const result = await hub.execute(() =>
      service.submit(body, { idempotencyKey: key, traceparent: parent })
    );
    c.header("Location", `/pipelines/${result.pipelineId}`);
    return c.json({ id: result.pipelineId, status: result.status }, 201);
  });

  app.get("/pipelines", (c) => {
    const page = store.list(listFilter(c.req.url));
    return c.json({
      // One not yet ended is read from memory, as its own route reads it.
      pipelines: page.pipelines.map((p) => service.isActive(p.id) ? summary(service.get(p.id)) : p),
      ...(page.next ? { next: page.next } : {}),
    });
  });

  app.get("/pipelines/:id", (c) => c.json(service.get(c.req.param("id"))));

  app.delete("/pipelines/:id", async (c) => {
    const id = c.req.param("id");
    return c.json(await hub.execute(() => service.cancel(id)));
  });

  mountDynamicRoutes(app, hub, deps.maxBodyBytes);

  app.get("/pipelines/:id/events", (c) => {
    const id = c.req.param("id");
    const first = service.get(id); // 404 before the stream starts.
    return follow(c, hub.changes, streams, (send) => {
      send("snapshot", first);
      if (ENDED.has(first.status)) return "end";
      return (ids) => {
        if (!ids.has(id)) return;
        const record = service.get(id);
        send("pipeline", record);
        if (ENDED.has(record.status)) return "end";
      };
    });
  });

  addLogRoutes(app, hub, streams);

  app.get("/events", (c) =>
    follow(c, hub.changes, streams, (send) => (ids) => {
      for (const id of ids) {
        try {
          send("pipeline", summary(service.get(id)));
        } catch {
          // Pruned meanwhile.
        }
      }
    }));

  dashboardApi(app, hub, metrics);

  app.get("/functions", (c) => c.json({ functions: registry.functions() }));

  app.get("/brokers", (c) => {
    // A broker's worker hosts that take jobs themselves are its slots.
    const all = [...registry.brokers.values()];
    const hostsOf = (id: string) => all.filter((b) => b.of === id);
    return c.json({
      brokers: all.filter((b) => b.of === undefined).map((b) => {
        const hosts = hostsOf(b.id);
        return {
          id: b.id,
          host: b.host,
          pid: b.pid,
          slots: hosts.reduce((n, h) => n + h.slots, b.slots),
          busy: hosts.reduce((n, h) => n + h.running.size, b.running.size),
          lastSeen: b.lastSeen,
          since: b.since,
          functions: [...b.functions.keys()].sort(),
          ...(b.load ? { load: b.load } : {}),
          ...(hosts.length > 0
            ? {
              hosts: hosts.map((h) => ({
                id: h.id,
                pid: h.pid,
                slots: h.slots,
                busy: h.running.size,
                // A host joins before it has loaded its functions: these it can run now.
                functions: [...h.functions.values()].filter((f) => !f.error).map((f) => f.name)
                  .sort(),
                lastSeen: h.lastSeen,
                ...(h.load ? { load: h.load } : {}),
              })),
            }
            : {}),
        };
      }),
    });
  });

  app.get("/stats", (c) =>
    c.json({
      jobsPerSecond: metrics.jobsPerSecond(),
      pipelines: store.counts(),
      queueDepth: service.scheduler.depth,
      brokers: registry.brokerCount,
      limits: service.scheduler.limitViews(),
    }));

  app.get("/metrics", (c) => {
    let slots = 0, busy = 0;
    for (const b of registry.brokers.values()) {
      slots += b.slots;
      busy += b.running.size;
    }
    const text = metrics.prometheus({
      functions: registry.functions().map((f) => f.name),
      queued: service.scheduler.queued(),
      now: Date.now(),
      pipelinesByStatus: store.counts(),
      queueDepth: service.scheduler.depth,
      brokers: registry.brokerCount,
      pipeliners: registry.pipeliners.size,
      slots,
      busySlots: busy,
      protocolErrors: hub.protocolErrors,
      queuedByPriority: service.scheduler.depthByPriority(),
      limits: service.scheduler.limitViews(),
      ...(hub.mirrorStats ? { mirror: hub.mirrorStats } : {}),
    });
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  addScheduleRoutes(app, hub, deps.maxBodyBytes);

  return app;
}
