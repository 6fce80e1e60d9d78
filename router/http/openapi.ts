/**
 * The OpenAPI 3.1 description of the Router's HTTP front, served at `/openapi.json`.
 *
 * @module
 */
import { dynamicPaths, dynamicSchemas } from "./openapi_dynamic.ts";
import { jobPaths } from "./openapi_jobs.ts";
import { SCHEDULE_PATHS, SCHEDULE_SCHEMAS } from "./openapi_schedules.ts";

import { error, json, pathParam, ref } from "./openapi_parts.ts";

const idParam = pathParam("id", "Pipeline id");
const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"];
const time = (description: string) => ({
  in: "query",
  schema: { oneOf: [{ type: "integer", minimum: 0 }, { type: "string", format: "date-time" }] },
  description: `${description}: epoch ms or an ISO 8601 date`,
});

export function openApi(): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "pipelinin Router",
      version: "1",
      description:
        "Submit DAG pipelines of functions, follow them, cancel them; start them on cron schedules. With PIPELININ_TOKEN set, every route but /health wants `Authorization: Bearer <token>` (or `?token=` for EventSource).",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: { type: "string" },
            name: { type: "string" },
            problems: { type: "array", items: { type: "string" } },
          },
        },
        PipelineSpec: {
          type: "object",
          required: ["graph"],
          properties: {
            graph: {
              type: "object",
              additionalProperties: {
                oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }],
              },
              description: "Edges: each key (a job id) runs before each of its values.",
            },
            data: { type: "object", description: "The starting document." },
            jobs: {
              type: "object",
              additionalProperties: { oneOf: [{ type: "string" }, ref("JobOptions")] },
              description: "Job id -> function name, where they differ, or job options.",
            },
            deadlineMs: {
              type: "integer",
              minimum: 1,
              description:
                "Fails the pipeline if it has not ended this many ms after it was accepted (after `runAt` when delayed).",
            },
            priority: {
              type: "integer",
              minimum: 0,
              maximum: 9,
              default: 0,
              description:
                "Higher starts first among ready jobs; FIFO within one. A waiting job gains a level per 10 s (up to 9), so none starves.",
            },
            delayMs: {
              type: "integer",
              minimum: 0,
              maximum: 31_622_400_000,
              description:
                "Its first jobs start no earlier than this many ms after it was accepted (not with `runAt`).",
            },
            runAt: {
              oneOf: [
                { type: "integer", minimum: 0, description: "epoch ms" },
                { type: "string", format: "date-time", description: "ISO 8601 with its offset" },
              ],
              description: "Its first jobs start no earlier than this (not with `delayMs`).",
            },
          },
        },
        FunctionConfig: {
          type: "object",
          description: "A function module's `config` export, as its broker validated it.",
          properties: {
            requires: { type: "array", items: { type: "string" } },
            permissions: { type: "object" },
            timeoutMs: { type: "number" },
            retries: { type: "integer" },
            isolation: { enum: ["worker", "job"] },
            concurrency: {
              type: "integer",
              minimum: 1,
              description: "At most this many attempts run at once across the cluster.",
            },
            concurrencyKey: {
              type: "string",
              description:
                "With `concurrency`: the limit holds per distinct value of this key of the job's input.",
            },
            rateLimit: {
              type: "object",
              required: ["max", "perMs"],
              properties: {
                max: { type: "integer", minimum: 1 },
                perMs: { type: "integer", minimum: 1 },
              },
              description:
                "At most `max` attempts start in any window of `perMs` ms across the cluster.",
            },
          },
        },
        Job: {
          type: "object",
          properties: {
            jobId: { type: "string" },
            fn: { type: "string" },
            status: {
              enum: [
                "pending",
                "running",
                "waiting",
                "succeeded",
                "failed",
                "skipped",
                "cancelled",
              ],
            },
            attempts: { type: "integer" },
            lastAttempt: { type: "integer" },
            broker: { type: "string" },
            host: { type: "string", description: "Host name of the last attempt's broker" },
            output: { type: "object" },
            error: { type: "object" },
            attemptErrors: { type: "array", items: { type: "object" } },
            startedAt: { type: "integer" },
            finishedAt: { type: "integer" },
            durationMs: { type: "number" },
            retryAt: { type: "integer" },
            map: ref("MapSummary"),
            signal: { type: "string", description: "A wait job's signal" },
            waitUntil: { type: "integer", description: "When a waiting job times out" },
          },
        },
        ...dynamicSchemas,
        Pipeline: {
          type: "object",
          properties: {
            id: { type: "string" },
            status: { enum: ["queued", "running", "succeeded", "failed", "cancelled"] },
            spec: ref("PipelineSpec"),
            document: { type: "object" },
            jobs: { type: "array", items: ref("Job") },
            createdAt: { type: "integer" },
            runAt: {
              type: "integer",
              description:
                "Epoch ms before which its first jobs do not start (from `delayMs` or `runAt`).",
            },
            startedAt: { type: "integer" },
            finishedAt: { type: "integer" },
            durationMs: { type: "number" },
            error: { type: "object" },
            idempotencyKey: { type: "string" },
            retryOf: { type: "string", description: "The pipeline this one retries" },
            retriedBy: {
              type: "array",
              items: { type: "string" },
              description: "Pipelines that retry this one, oldest first",
            },
            schedule: ref("ScheduleTick"),
          },
        },
        FunctionStats: {
          type: "object",
          properties: {
            name: { type: "string" },
            brokers: { type: "integer", description: "Brokers serving it" },
            queued: { type: "integer", description: "Ready attempts waiting for a slot" },
            oldestQueuedMs: { type: "number", description: "How long the oldest has waited" },
            running: { type: "integer" },
            perMinute: { type: "number", description: "Attempts that ended, per minute" },
            failureRate: { type: "number", minimum: 0, maximum: 1 },
            succeeded: { type: "integer" },
            failed: { type: "integer" },
          },
        },
        ...SCHEDULE_SCHEMAS,
      },
    },
    security: [{ bearer: [] }],
    paths: {
      "/pipelines": {
        post: {
          summary: "Submit a pipeline",
          parameters: [{
            name: "Idempotency-Key",
            in: "header",
            schema: { type: "string" },
            description: "A repeat with the same key returns the first pipeline's id.",
          }],
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref("PipelineSpec") } },
          },
          responses: {
            "201": json(
              {
                type: "object",
                properties: { id: { type: "string" }, status: { type: "string" } },
              },
              "Stored; Location names it",
            ),
            "400": error("Invalid pipeline or malformed JSON; `problems` lists every problem"),
            "401": error("Token required"),
            "413": error("Body too large"),
            "415": error("Not JSON"),
            "429": error("Too many pipelines running; see Retry-After"),
            "503": error(
              "`NoBrokerError`: no broker serves a function right now, though one did lately; see Retry-After",
            ),
          },
        },
        get: {
          summary: "List pipelines, newest first, filtered",
          description: "An unknown or repeated parameter is refused with 400.",
          parameters: [
            {
              name: "status",
              in: "query",
              schema: {
                type: "string",
                pattern: `^(${STATUSES.join("|")})(,(${STATUSES.join("|")}))*$`,
              },
              description: "One status, or several separated by commas",
            },
            {
              name: "fn",
              in: "query",
              schema: { type: "string", maxLength: 256 },
              description: "Only pipelines with a job that runs this function",
            },
            { name: "since", ...time("Created at or after") },
            { name: "until", ...time("Created before") },
            {
              name: "q",
              in: "query",
              schema: { type: "string", maxLength: 256 },
              description:
                "Search: a pipeline id, its first 8 characters or more, or an idempotency key",
            },
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 500 } },
            {
              name: "cursor",
              in: "query",
              schema: { type: "string", pattern: "^[0-9]{1,15}$" },
              description: "The `next` of the page before",
            },
          ],
          responses: {
            "200": json({
              type: "object",
              properties: { pipelines: { type: "array" }, next: { type: "string" } },
            }, "One page"),
            "400": error("Bad query"),
          },
        },
      },
      "/pipelines/{id}": {
        get: {
          summary: "A pipeline with its jobs and document",
          parameters: [idParam],
          responses: { "200": json(ref("Pipeline"), "The pipeline"), "404": error("Unknown id") },
        },
        delete: {
          summary: "Cancel a pipeline",
          parameters: [idParam],
          responses: {
            "200": json({ type: "object" }, "Cancelled"),
            "404": error("Unknown id"),
            "409": error("Already ended"),
          },
        },
      },
      ...dynamicPaths,
      "/pipelines/{id}/events": {
        get: {
          summary:
            "Server-Sent Events: `snapshot`, then `pipeline` after each change; ends with the pipeline",
          parameters: [idParam],
          responses: { "200": { description: "text/event-stream" }, "404": error("Unknown id") },
        },
      },
      ...jobPaths(idParam),
      "/events": {
        get: {
          summary: "Server-Sent Events: `pipeline` (a summary) whenever any pipeline changes",
          responses: { "200": { description: "text/event-stream" } },
        },
      },
      "/functions": {
        get: {
          summary: "Functions the brokers serve",
          responses: {
            "200": json(
              { type: "object" },
              "Functions with config (see FunctionConfig), brokers, load errors, and conflicts (a broker whose own folder has other code under a name the Router ships)",
            ),
          },
        },
      },
      "/brokers": {
        get: {
          summary: "Connected brokers with slots, busy slots and load",
          responses: { "200": json({ type: "object" }, "Brokers") },
        },
      },
      "/stats": {
        get: {
          summary:
            "Jobs per second (5 s buckets, 10 min), pipelines by status, queue depth, and `limits`: per function with a limit, its `concurrency`, `concurrencyKey`, `rateLimit`, the attempts `running` under it (over `keys` distinct keys), and how many are `queued` and how many of those it holds back (`waiting`)",
          responses: { "200": json({ type: "object" }, "Stats") },
        },
      },
      "/stats/functions": {
        get: {
          summary: "Per function: attempts per minute and failure rate (5 min), queue, running",
          responses: {
            "200": json({
              type: "object",
              properties: {
                windowMs: { type: "integer" },
                functions: { type: "array", items: ref("FunctionStats") },
              },
            }, "Per-function stats"),
          },
        },
      },
      "/health": {
        get: {
          summary: "Liveness (no token needed)",
          security: [],
          responses: { "200": json({ type: "object" }, "Up") },
        },
      },
      "/metrics": {
        get: {
          summary:
            "Prometheus text format; with `pipelinin_queued_jobs{function,priority}`, `pipelinin_jobs_waiting_on_limit{function}` and `pipelinin_limited_jobs_running{function}`",
          responses: { "200": { description: "text/plain; version=0.0.4" } },
        },
      },
      "/openapi.json": {
        get: {
          summary: "This document",
          responses: { "200": json({ type: "object" }, "OpenAPI") },
        },
      },
      "/": {
        get: { summary: "The live dashboard", responses: { "200": { description: "HTML" } } },
      },
      ...SCHEDULE_PATHS,
    },
  };
}
