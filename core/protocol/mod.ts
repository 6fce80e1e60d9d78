/**
 * The wire protocol between pipelinin's daemons and clients.
 *
 * Every message on the Router's request socket is two frames, `PROTOCOL` then one
 * JSON object with a `type`; a batch is `PROTOCOL` then several JSON frames, each one
 * message, handled in order (see {@linkcode splitBatch}). Requests carry an `id` and
 * get exactly one `reply` with the same `id`. Events carry no `id` and get no reply.
 * Raw frames are parsed into these types here, at the edge, field by field; nothing
 * else handles untyped data. `docs/protocol.md` documents the same for other languages.
 *
 * ```ts
 * import { encode, parseToRouter } from "./mod.ts";
 *
 * const message = parseToRouter(encode({ type: "status", id: "1", pipelineId: "p" }));
 * ```
 *
 * @module
 */
export type {
  BrokerLoad,
  ClusterConfig,
  FunctionInfo,
  FunctionView,
  JobOutcome,
  JobRecord,
  MapItemRecord,
  MapItemStatus,
  MapSummary,
  PipelineRecord,
  ReplyError,
  ScheduleOutcome,
  ScheduleRecord,
  ScheduleTick,
} from "./records.ts";
export {
  type BrokerFunctionsEvent,
  type BrokerHelloRequest,
  type BrokerStatusEvent,
  type CancelRequest,
  type ConfigurationRequest,
  type CreateScheduleRequest,
  type DeleteScheduleRequest,
  type FetchFileRequest,
  type FileContent,
  type FunctionsManifestEvent,
  type GetScheduleRequest,
  type GoodbyeEvent,
  type HelloAgainEvent,
  type HostLostEvent,
  type JobCancelEvent,
  type JobDoneEvent,
  type JobFollower,
  type JobLogLevel,
  type JobLogRecord,
  type JobLogsEvent,
  type JobPlan,
  type JobRequestEvent,
  type JobResultEvent,
  type JobRunEvent,
  type ListFunctionsRequest,
  type ListSchedulesRequest,
  type ManifestFile,
  type ManifestFunction,
  MAX_PLAN_DEPTH,
  type PeerEvent,
  type PipelineAssignEvent,
  type PipelineCancelEvent,
  type PipelineEndedBroadcast,
  type PipelineFinishEvent,
  type PipelinerHelloRequest,
  type PipelinerStatusEvent,
  type PlannedJob,
  PROTOCOL,
  PROTOCOL_LIMITS,
  type ProtocolErrorEvent,
  type PutScheduleRequest,
  type Reply,
  type Request,
  type RouterEvent,
  type SignalRequest,
  type StatusRequest,
  type SubmitRequest,
  type WaitRequest,
} from "./messages.ts";
export {
  encode,
  encodeBatches,
  encodeBody,
  encodeBroadcast,
  endedTopic,
  MAX_BATCH,
  type Message,
  splitBatch,
} from "./codec.ts";
export { parseFileContent, parseFromRouter, parseToRouter } from "./parse.ts";
export { sha256Hex, treeHash } from "./tree_hash.ts";
export { ProtocolError } from "./protocol_error.ts";
