/**
 * The client: describe a pipeline ({@linkcode Pipeline}, {@linkcode Job}), submit it
 * to a Router and wait for its end ({@linkcode PipelineManager}), over the
 * documented ZeroMQ protocol. The root `mod.ts` re-exports this module.
 *
 * ```ts
 * import { Pipeline, PipelineManager } from "./mod.ts";
 *
 * const manager = new PipelineManager({ api: "tcp://127.0.0.1:5555" });
 * const result = await manager.run(new Pipeline({ downloader: ["links"] }), { timeoutMs: 30_000 });
 * await manager.close();
 * ```
 *
 * @module
 */
export { Job, Pipeline, type PipelineOptions } from "./pipeline.ts";
export {
  type ManagerOptions,
  PipelineManager,
  type PipelineResult,
  type ScheduleInput,
  type Submittable,
  WaitTimeoutError,
} from "./pipeline_manager.ts";
export {
  JobLogClient,
  type JobLogClientOptions,
  JobLogError,
  type JobLogLevel,
  type JobLogLine,
  type JobLogQuery,
} from "./job_logs.ts";
export { RemoteError, RequestTimeoutError } from "../core/router_link.ts";
export { NoActiveRouterError } from "./active_http.ts";
export type { CurveClientKeys } from "../core/curve_keys.ts";
export {
  JobTimeoutError,
  NonRetryableError,
  PipelineValidationError,
  SignalTimeoutError,
} from "../core/errors.ts";
