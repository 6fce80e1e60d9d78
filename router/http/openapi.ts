/**
 * The OpenAPI 3.1 description of the Router's HTTP front, served at `/openapi.json`.
 *
 * @module
 */
import { dynamicPaths, dynamicSchemas } from "./openapi_dynamic.ts";

const json = (schema: Record<string, unknown>, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => json(ref("Error"), description);
const idParam = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "Pipeline id",
};

const logParams = [
  { name: "jobId", in: "path", required: true, schema: { type: "string" }, description: "Job id" },
  {
    name: "attempt",
    in: "query",
    schema: { type: "integer", minimum: 1 },
    description: "Only this attempt's lines",
  },
  {
    name: "after",
    in: "query",
    schema: { type: "integer", minimum: 0 },
    description: "Resume after this `x-next-after` (or SSE id)",
  },
];

/** The document. */
export function openApi(): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "pipelinin Router",
      version: "1",
      description:
        "Submit DAG pipelines of functions, follow them, cancel them. With PIPELININ_TOKEN set, every route but /health wants `Authorization: Bearer <token>` (or `?token=` for EventSource).",
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
            startedAt: { type: "integer" },
            finishedAt: { type: "integer" },
            durationMs: { type: "number" },
            error: { type: "object" },
          },
        },
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
          summary: "List pipelines, newest first",
          parameters: [
            {
              name: "status",
              in: "query",
              schema: { enum: ["queued", "running", "succeeded", "failed", "cancelled"] },
            },
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 500 } },
            { name: "cursor", in: "query", schema: { type: "string" } },
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
      "/pipelines/{id}/jobs/{jobId}/logs": {
        get: {
          summary:
            "A job's log lines as JSON lines `{attempt, time, level, message, fields?}`, oldest first; `x-next-after` when more follow",
          parameters: [idParam, ...logParams],
          responses: {
            "200": { description: "application/x-ndjson" },
            "400": error("Bad query"),
            "404": error("Unknown pipeline or job"),
          },
        },
      },
      "/pipelines/{id}/jobs/{jobId}/logs/events": {
        get: {
          summary:
            "Server-Sent Events: a `log` event per line, stored ones first, then each as it comes; `end` once the pipeline ended",
          parameters: [idParam, ...logParams],
          responses: { "200": { description: "text/event-stream" }, "404": error("Unknown id") },
        },
      },
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
              "Functions with config, brokers, load errors, and conflicts (a broker whose own folder has other code under a name the Router ships)",
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
          summary: "Jobs per second (5 s buckets, 10 min), pipelines by status, queue depth",
          responses: { "200": json({ type: "object" }, "Stats") },
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
          summary: "Prometheus text format",
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
    },
  };
}
