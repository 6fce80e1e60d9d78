/**
 * The OpenAPI parts of pipelines that decide at run time: job options (`map`,
 * `when`, `wait`), map items, and signals. Joined into `/openapi.json` by `openapi.ts`.
 *
 * @module
 */

import { error, json, pathParam as path, ref } from "./openapi_parts.ts";

const scalar = { type: ["string", "number", "boolean", "null"] };

/** Schemas: `JobOptions`, `Condition`, `MapSummary`, `MapItem`. */
export const dynamicSchemas: Record<string, unknown> = {
  JobOptions: {
    type: "object",
    additionalProperties: false,
    description:
      "A job beyond its function's name. `map`: run once per element of the list at that key of the input (items get `item` and `index`). `when`: run only if the condition holds, else `skipped`. `wait` (instead of `fn`): wait for the signal of that name, whose object is the output.",
    properties: {
      fn: { type: "string", description: "The function; default the job id. Not with `wait`." },
      map: { type: "string", description: "Document key of the list to map over" },
      mapConcurrency: { type: "integer", minimum: 1, maximum: 10_000 },
      when: ref("Condition"),
      wait: { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,100}$" },
      timeoutMs: {
        type: "integer",
        minimum: 1,
        maximum: 2_592_000_000,
        description: "With `wait`: fail with SignalTimeoutError after this long",
      },
    },
  },
  Condition: {
    description:
      "JSON, never code: a test of the value at a dotted path of the job's input, or tests combined (at most 16 levels, 256 tests).",
    oneOf: [
      {
        type: "object",
        required: ["path", "op", "value"],
        properties: {
          path: { type: "string", maxLength: 200 },
          op: { enum: ["eq", "ne", "gt", "gte", "lt", "lte"] },
          value: scalar,
        },
      },
      {
        type: "object",
        required: ["path", "op", "value"],
        properties: {
          path: { type: "string" },
          op: { const: "in" },
          value: { type: "array", items: scalar, maxItems: 1000 },
        },
      },
      {
        type: "object",
        required: ["path", "op"],
        properties: { path: { type: "string" }, op: { const: "exists" } },
      },
      {
        type: "object",
        required: ["all"],
        properties: { all: { type: "array", minItems: 1, items: ref("Condition") } },
      },
      {
        type: "object",
        required: ["any"],
        properties: { any: { type: "array", minItems: 1, items: ref("Condition") } },
      },
      { type: "object", required: ["not"], properties: { not: ref("Condition") } },
    ],
  },
  MapSummary: {
    type: "object",
    description: "A map job's items by state",
    properties: Object.fromEntries(
      ["items", "pending", "running", "succeeded", "failed", "cancelled"].map((k) => [k, {
        type: "integer",
      }]),
    ),
  },
  MapItem: {
    type: "object",
    properties: {
      index: { type: "integer" },
      status: { enum: ["pending", "running", "succeeded", "failed", "cancelled"] },
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
    },
  },
};

const idParam = path("id", "Pipeline id", { type: "string" });
const jobParam = path("jobId", "A map job's id", { type: "string" });

/** Paths: signals and map items. */
export const dynamicPaths: Record<string, unknown> = {
  "/pipelines/{id}/signals/{name}": {
    post: {
      summary: "Deliver a signal to the jobs waiting for it; its object becomes their output",
      parameters: [
        idParam,
        path("name", "The signal's name", { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,100}$" }),
      ],
      requestBody: {
        required: true,
        content: { "application/json": { schema: { type: "object" } } },
      },
      responses: {
        "200": json({
          type: "object",
          properties: {
            pipelineId: { type: "string" },
            signal: { type: "string" },
            jobIds: { type: "array", items: { type: "string" } },
          },
        }, "The jobs it resumed"),
        "400": error("Not a JSON object, too big or too deep (InvalidSignalError), or a bad name"),
        "404": error("Unknown pipeline"),
        "409": error("No job waits for this signal now (JobNotWaitingError)"),
        "413": error("Body too large"),
      },
    },
  },
  "/pipelines/{id}/jobs/{jobId}/items": {
    get: {
      summary: "A page of a map job's items, in order",
      parameters: [
        idParam,
        jobParam,
        { name: "offset", in: "query", schema: { type: "integer", minimum: 0 } },
        { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000 } },
      ],
      responses: {
        "200": json({
          type: "object",
          properties: {
            total: { type: "integer" },
            items: { type: "array", items: ref("MapItem") },
            next: {
              type: "integer",
              description: "The offset of the next page; absent on the last",
            },
          },
        }, "One page"),
        "400": error("Bad offset or limit"),
        "404": error("Unknown pipeline, or no map job of that id"),
      },
    },
  },
  "/pipelines/{id}/jobs/{jobId}/items/{index}": {
    get: {
      summary: "One item of a map job",
      parameters: [idParam, jobParam, path("index", "From 0", { type: "integer", minimum: 0 })],
      responses: {
        "200": json(ref("MapItem"), "The item"),
        "400": error("Bad index"),
        "404": error("Unknown pipeline, job or item"),
      },
    },
  },
};
