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
export { Job, Pipeline } from "./core/pipeline.ts";
export {
  type ManagerOptions,
  PipelineManager,
  type PipelineResult,
  type Submittable,
  WaitTimeoutError,
} from "./core/pipeline_manager.ts";
export { RemoteError, RequestTimeoutError } from "./core/router_link.ts";
export { JobTimeoutError, NonRetryableError, PipelineValidationError } from "./core/errors.ts";
export type { FunctionInfo, FunctionView, JobRecord, PipelineRecord } from "./core/protocol/mod.ts";
export type {
  ErrorData,
  FunctionConfig,
  FunctionContext,
  FunctionLogger,
  FunctionPermissions,
  JobStatus,
  JsonObject,
  JsonValue,
  PipelineSpec,
  PipelineStatus,
} from "./core/types.ts";
