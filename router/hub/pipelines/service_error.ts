/**
 * The errors the pipeline and schedule services throw for a request it refuses; their `name`
 * maps to a status code at the HTTP edge and travels as is in a ZeroMQ reply.
 *
 * @module
 */
import { ErrorName } from "../../../core/errors.ts";
import type { KnownFunctions } from "../known_functions.ts";

/** Errors the service throws for requests; `name` maps to a status code at the HTTP edge. */
export class ServiceError extends Error {
  constructor(
    name:
      | typeof ErrorName.PipelineNotFound
      | typeof ErrorName.PipelineEnded
      | typeof ErrorName.PipelineNotRetryable
      | typeof ErrorName.TooManyPipelines
      | typeof ErrorName.NoBroker
      | typeof ErrorName.JobNotWaiting
      | typeof ErrorName.InvalidSignal
      | typeof ErrorName.ScheduleNotFound
      | typeof ErrorName.ScheduleExists
      | typeof ErrorName.TooManySchedules,
    message: string,
  ) {
    super(message);
    this.name = name;
    this.retryable = name === ErrorName.TooManyPipelines || name === ErrorName.NoBroker;
  }

  /** Whether the same request may succeed later. */
  readonly retryable: boolean;
}

/** A function that some broker served lately, and none serves now: retryable. */
export function noBrokerError(known: KnownFunctions, fn: string): ServiceError {
  const at = known.lastServed(fn);
  const when = at === undefined ? "" : ` (last served ${new Date(at).toISOString()})`;
  return new ServiceError(
    ErrorName.NoBroker,
    `No broker serves function "${fn}" right now${when}: retry later`,
  );
}
