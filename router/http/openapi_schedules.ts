/**
 * The schedules' part of the Router's OpenAPI document: their schemas and routes.
 *
 * @module
 */

import { error, json, pathParam, ref, type Schema } from "./openapi_parts.ts";

const idParam = pathParam("id", "Schedule id");
const invalid = error(
  "Invalid cron, time zone, pipeline or field, or malformed JSON; `problems` lists every problem, and nothing is stored",
);

/** The schemas of schedules. */
export const SCHEDULE_SCHEMAS: Schema = {
  ScheduleSpec: {
    type: "object",
    required: ["id", "cron", "pipeline"],
    properties: {
      id: {
        type: "string",
        pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        description: "Optional in a PUT (the path's); must match the path when given.",
      },
      cron: {
        type: "string",
        maxLength: 256,
        description:
          "Five fields (minute hour day-of-month month day-of-week), or six with a field of seconds first (`*/2 * * * * *`); `@hourly`, `@daily` and such; `L`, `W` and `#` as croner reads them.",
      },
      timezone: {
        type: "string",
        default: "UTC",
        description: "IANA time zone the fields are read in, e.g. `Europe/Paris`.",
      },
      pipeline: ref("PipelineSpec"),
      overlap: {
        enum: ["skip", "allow"],
        default: "skip",
        description:
          "`skip`: a tick that comes while the pipeline this schedule started last has not ended starts nothing. `allow`: it starts one anyway.",
      },
    },
  },
  Schedule: {
    type: "object",
    properties: {
      id: { type: "string" },
      cron: { type: "string" },
      timezone: { type: "string" },
      overlap: { enum: ["skip", "allow"] },
      pipeline: ref("PipelineSpec"),
      createdAt: { type: "integer", description: "Epoch ms" },
      updatedAt: { type: "integer", description: "Epoch ms of the last replace" },
      nextRunAt: { type: "integer", description: "Epoch ms of its next tick" },
      lastTick: {
        type: "object",
        properties: {
          at: { type: "integer", description: "The tick, epoch ms" },
          outcome: { enum: ["started", "skipped", "failed"] },
          pipelineId: {
            type: "string",
            description: "The pipeline started (or, skipped, the one still running)",
          },
          error: { type: "string", description: "Why the Router refused the pipeline" },
        },
      },
    },
  },
  ScheduleTick: {
    type: "object",
    description:
      "In a pipeline a schedule started: the schedule and the tick (epoch ms); one tick starts at most one pipeline.",
    properties: { id: { type: "string" }, at: { type: "integer" } },
  },
};

/** The routes of schedules. */
export const SCHEDULE_PATHS: Schema = {
  "/schedules": {
    get: {
      summary: "Every schedule, by id, with its next run",
      responses: {
        "200": json(
          { type: "object", properties: { schedules: { type: "array", items: ref("Schedule") } } },
          "Schedules",
        ),
      },
    },
    post: {
      summary: "Create a durable cron schedule; its first tick is the first after now",
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("ScheduleSpec") } },
      },
      responses: {
        "201": json(ref("Schedule"), "Stored; Location names it"),
        "400": invalid,
        "409": error("A schedule has this id already (replace it with PUT)"),
        "413": error("Body too large"),
        "415": error("Not JSON"),
        "429": error("Too many schedules (1,000)"),
      },
    },
  },
  "/schedules/{id}": {
    get: {
      summary: "One schedule with its next run and last tick",
      parameters: [idParam],
      responses: { "200": json(ref("Schedule"), "The schedule"), "404": error("Unknown id") },
    },
    put: {
      summary:
        "Create or replace a schedule; a replaced one keeps its last tick and owes no tick from before",
      parameters: [idParam],
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("ScheduleSpec") } },
      },
      responses: {
        "200": json(ref("Schedule"), "Replaced"),
        "201": json(ref("Schedule"), "Created"),
        "400": invalid,
        "429": error("Too many schedules (1,000)"),
      },
    },
    delete: {
      summary: "Delete a schedule; the pipelines it started go on",
      parameters: [idParam],
      responses: {
        "200": json({ type: "object" }, "`{ id, deleted: true }`"),
        "404": error("Unknown id"),
      },
    },
  },
};
