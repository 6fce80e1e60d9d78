/**
 * The errors the pipeline and schedule services throw for a request it refuses; their `name`
 * maps to a status code at the HTTP edge and travels as is in a ZeroMQ reply.
 *
 * @module
 */
import { ErrorName } from "../../../core/errors.ts";

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
