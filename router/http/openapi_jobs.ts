/**
 * The OpenAPI routes of one job: its view, its logs (read and followed), and the
 * retry of its pipeline.
 *
 * @module
 */

import { error, json, pathParam, ref, type Schema } from "./openapi_parts.ts";

const jobIdParam = pathParam("jobId", "Job id within the pipeline");
const logParams = [
  pathParam("jobId", "Job id"),
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

/** The job routes, under `paths`, given the pipeline id's parameter. */
export function jobPaths(idParam: Schema): Record<string, unknown> {
  return {
    "/pipelines/{id}/retry": {
      post: {
        summary: "Retry a failed or cancelled pipeline: a new one from the same spec",
        description:
          "The new pipeline's `retryOf` names this one, and this one's `retriedBy` lists it.",
        parameters: [idParam, {
          name: "Idempotency-Key",
          in: "header",
          schema: { type: "string", maxLength: 256 },
          description: "A repeat with the same key returns the first retry.",
        }],
        responses: {
          "201": json({
            type: "object",
            properties: {
              id: { type: "string" },
              status: { type: "string" },
              retryOf: { type: "string" },
            },
          }, "The new pipeline; Location names it"),
          "400": error("Its spec is no longer valid (e.g. a function is gone)"),
          "404": error("Unknown id"),
          "409": error("Not ended yet, or succeeded"),
          "429": error("Too many pipelines running; see Retry-After"),
          "503": error("`NoBrokerError`: no broker serves a function right now; see Retry-After"),
        },
      },
    },
    "/pipelines/{id}/jobs/{jobId}": {
      get: {
        summary: "One job with the input it was given (or would be, while pending)",
        parameters: [idParam, jobIdParam],
        responses: {
          "200": json({
            allOf: [ref("Job"), {
              type: "object",
              properties: { pipelineId: { type: "string" }, input: { type: "object" } },
            }],
          }, "The job"),
          "404": error("Unknown pipeline or job"),
        },
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
  };
}
