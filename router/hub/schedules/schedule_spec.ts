/**
 * Reading a schedule as a client sent it (HTTP body or ZeroMQ request): every
 * problem at once, its pipeline's too, before anything is stored.
 *
 * @module
 */
import { type PipelineLimits, validatePipeline } from "../../../core/dag/mod.ts";
import { PipelineValidationError, ScheduleValidationError } from "../../../core/errors.ts";
import type { PipelineSpec, ScheduleOverlap, ScheduleSpec } from "../../../core/types.ts";
import { compileCron, type CronTimes } from "./cron.ts";

/** A schedule's id: safe in a URL path and a log line. */
export const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const FIELDS = new Set(["id", "cron", "timezone", "pipeline", "overlap"]);
const OVERLAPS: readonly ScheduleOverlap[] = ["skip", "allow"];

/** A valid schedule, with its defaults filled in, and its cron compiled. */
export interface ValidSchedule {
  spec: Required<ScheduleSpec>;
  times: CronTimes;
}

/** What a schedule's pipeline is checked against. */
export interface ScheduleChecks {
  /** Functions a pipeline may name (as a submit is checked). */
  knownFunctions?: Pick<ReadonlySet<string>, "has">;
  limits?: Partial<PipelineLimits>;
  /** The id in the path of a put: the body's, if it has one, must be the same. */
  id?: string;
}

/**
 * Checks a schedule.
 *
 * @throws {ScheduleValidationError} listing every problem.
 */
export function readSchedule(body: unknown, checks: ScheduleChecks = {}): ValidSchedule {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ScheduleValidationError(["The schedule must be a JSON object"]);
  }
  const fields = body as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(fields)) {
    if (!FIELDS.has(key)) problems.push(`Unknown field "${key.slice(0, 60)}"`);
  }
  const id = fields.id ?? checks.id;
  if (typeof id !== "string" || !SCHEDULE_ID.test(id)) {
    problems.push(
      'Field "id" must be 1 to 128 letters, digits, ".", "_" or "-", the first a letter or digit',
    );
  } else if (checks.id !== undefined && id !== checks.id) {
    problems.push(`Field "id" is "${id}" but the path names "${checks.id}"`);
  }
  const overlap = fields.overlap ?? "skip";
  if (!OVERLAPS.includes(overlap as ScheduleOverlap)) {
    problems.push('Field "overlap" must be "skip" or "allow"');
  }
  const timezone = fields.timezone ?? "UTC";
  if (typeof timezone !== "string") problems.push('Field "timezone" must be a string');
  let times: CronTimes | undefined;
  if (typeof fields.cron !== "string") {
    problems.push('Field "cron" must be a string: five fields, or six with seconds first');
  } else {
    const compiled = compileCron(fields.cron, typeof timezone === "string" ? timezone : "UTC");
    if (Array.isArray(compiled)) problems.push(...compiled);
    else times = compiled;
  }
  if (fields.pipeline === undefined) {
    problems.push('Field "pipeline" is missing: the pipeline each tick starts');
  } else {
    try {
      validatePipeline(fields.pipeline, {
        knownFunctions: checks.knownFunctions,
        limits: checks.limits,
      });
    } catch (error) {
      if (!(error instanceof PipelineValidationError)) throw error;
      problems.push(...error.problems.map((problem) => `Pipeline: ${problem}`));
    }
  }
  if (problems.length > 0 || !times) throw new ScheduleValidationError(problems);
  return {
    spec: {
      id: id as string,
      cron: fields.cron as string,
      timezone: timezone as string,
      pipeline: fields.pipeline as PipelineSpec,
      overlap: overlap as ScheduleOverlap,
    },
    times,
  };
}
