/**
 * pipelinin: run jobs and DAG pipelines of TypeScript functions across a cluster of
 * Deno daemons that talk ZeroMQ. This module is the client.
 *
 * ```ts
 * import { Pipeline, PipelineManager } from "./mod.ts";
 *
 * const pipeline = new Pipeline(
 *   { downloader: ["text_and_words", "links"] },
 *   { data: { url: "http://127.0.0.1:8000/" } },
 * );
 * const manager = new PipelineManager({ api: "tcp://127.0.0.1:5555", broadcast: "tcp://127.0.0.1:5556" });
 * const id = await manager.start(pipeline);
 * const result = await manager.wait(id, { timeoutMs: 30_000 });
 * console.log(result.status, result.document);
 * await manager.close();
 * ```
 *
 * @module
 */
export {
  type CurveClientKeys,
  Job,
  JobLogClient,
  type JobLogClientOptions,
  JobLogError,
  type JobLogLevel,
  type JobLogLine,
  type JobLogQuery,
  JobTimeoutError,
  type ManagerOptions,
  NonRetryableError,
  Pipeline,
  PipelineManager,
  type PipelineOptions,
  type PipelineResult,
  PipelineValidationError,
  RemoteError,
  RequestTimeoutError,
  type ScheduleInput,
  SignalTimeoutError,
  type Submittable,
  WaitTimeoutError,
} from "./client/mod.ts";
export type {
  FunctionInfo,
  FunctionView,
  JobRecord,
  MapItemRecord,
  MapSummary,
  PipelineRecord,
  ScheduleOutcome,
  ScheduleRecord,
  ScheduleTick,
} from "./core/protocol/mod.ts";
export type {
  Condition,
  ErrorData,
  FunctionConfig,
  FunctionContext,
  FunctionLogger,
  FunctionPermissions,
  Isolation,
  JobOptions,
  JobStatus,
  JsonObject,
  JsonValue,
  PipelineSpec,
  PipelineStatus,
  RateLimit,
  ScheduleOverlap,
  ScheduleSpec,
} from "./core/types.ts";
