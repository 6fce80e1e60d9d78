/**
 * One reader per message type, in three tables (requests, events to the Router,
 * events from it). Each table is typed to name every type of its union, so a new
 * message type that has no reader fails to compile.
 *
 * @module
 */
import type { JobOutcome } from "./records.ts";
import type {
  BrokerHelloRequest,
  HostLostEvent,
  JobCancelEvent,
  JobDoneEvent,
  JobRequestEvent,
  JobResultEvent,
  JobRunEvent,
  PeerEvent,
  PipelineAssignEvent,
  PipelineFinishEvent,
  PipelinerHelloRequest,
  Request,
  RouterEvent,
  SubmitRequest,
} from "./messages.ts";
import {
  amount,
  count,
  type Fields,
  fields,
  flag,
  id,
  jsonObject,
  maybe,
  need,
  oneOf,
} from "./_fields.ts";
import {
  brokerLoad,
  errorData,
  functionInfos,
  functionName,
  jobAttempt,
  jobFollower,
  jobPlan,
  jobRecords,
  outcome,
  pipelineSpec,
  runningJob,
  signalName,
} from "./_values.ts";
import { functionsManifest, sha256 } from "./_manifest.ts";
import { logRecords, traceparent } from "./_observed.ts";

const pipelineId = (m: Fields) => need(m, "pipelineId", id);
const scheduleId = (m: Fields) => need(m, "scheduleId", id);

/** Readers of each request, by type; the table must name every request type. */
export const REQUESTS: {
  [T in Request["type"]]: (m: Fields, id: string) => Extract<Request, { type: T }>;
} = {
  "submit": (m, requestId) => {
    const request: SubmitRequest = {
      type: "submit",
      id: requestId,
      pipeline: need(m, "pipeline", jsonObject),
    };
    const key = maybe(m, "idempotencyKey", id);
    if (key !== undefined) request.idempotencyKey = key;
    const waitMs = maybe(m, "waitMs", amount);
    if (waitMs !== undefined) request.waitMs = waitMs;
    const parent = maybe(m, "traceparent", traceparent);
    if (parent !== undefined) request.traceparent = parent;
    return request;
  },
  "wait": (m, requestId) => {
    const timeoutMs = maybe(m, "timeoutMs", amount);
    return timeoutMs === undefined
      ? { type: "wait", id: requestId, pipelineId: pipelineId(m) }
      : { type: "wait", id: requestId, pipelineId: pipelineId(m), timeoutMs };
  },
  "status": (m, requestId) => ({ type: "status", id: requestId, pipelineId: pipelineId(m) }),
  "cancel": (m, requestId) => ({ type: "cancel", id: requestId, pipelineId: pipelineId(m) }),
  "signal": (m, requestId) => ({
    type: "signal",
    id: requestId,
    pipelineId: pipelineId(m),
    name: need(m, "name", signalName),
    payload: need(m, "payload", jsonObject),
  }),
  "get-configuration": (_, requestId) => ({ type: "get-configuration", id: requestId }),
  "list-functions": (_, requestId) => ({ type: "list-functions", id: requestId }),
  "broker-hello": (m, requestId) => ({
    type: "broker-hello",
    id: requestId,
    broker: need(m, "broker", helloBroker),
    functions: need(m, "functions", functionInfos),
  }),
  "pipeliner-hello": (m, requestId) => ({
    type: "pipeliner-hello",
    id: requestId,
    pipeliner: need(m, "pipeliner", helloPipeliner),
  }),
  "fetch-file": (m, requestId) => ({
    type: "fetch-file",
    id: requestId,
    sha256: need(m, "sha256", sha256),
  }),
  "create-schedule": (m, requestId) => ({
    type: "create-schedule",
    id: requestId,
    schedule: need(m, "schedule", jsonObject),
  }),
  "put-schedule": (m, requestId) => ({
    type: "put-schedule",
    id: requestId,
    scheduleId: scheduleId(m),
    schedule: need(m, "schedule", jsonObject),
  }),
  "get-schedule": (m, requestId) => ({
    type: "get-schedule",
    id: requestId,
    scheduleId: scheduleId(m),
  }),
  "list-schedules": (_, requestId) => ({ type: "list-schedules", id: requestId }),
  "delete-schedule": (m, requestId) => ({
    type: "delete-schedule",
    id: requestId,
    scheduleId: scheduleId(m),
  }),
};

function helloBroker(value: unknown): BrokerHelloRequest["broker"] {
  const o = fields(value);
  const broker: BrokerHelloRequest["broker"] = {
    id: need(o, "id", id),
    host: need(o, "host", id),
    pid: need(o, "pid", count),
    slots: need(o, "slots", count),
  };
  const prefetch = maybe(o, "prefetch", count);
  if (prefetch !== undefined) broker.prefetch = prefetch;
  const of = maybe(o, "of", id);
  if (of !== undefined) broker.of = of;
  return broker;
}

function helloPipeliner(value: unknown): PipelinerHelloRequest["pipeliner"] {
  const o = fields(value);
  return { id: need(o, "id", id), host: need(o, "host", id), pid: need(o, "pid", count) };
}

const finishStatus = oneOf<PipelineFinishEvent["status"]>(["succeeded", "failed", "cancelled"]);

/** Readers of each event to the Router, by type. */
export const ROUTER_EVENTS: {
  [T in RouterEvent["type"]]: (m: Fields) => Extract<RouterEvent, { type: T }>;
} = {
  "broker-status": (m) => ({ type: "broker-status", load: need(m, "load", brokerLoad) }),
  "broker-functions": (m) => ({
    type: "broker-functions",
    functions: need(m, "functions", functionInfos),
  }),
  "job-done": (m) => {
    const event: JobDoneEvent = {
      type: "job-done",
      pipelineId: pipelineId(m),
      jobId: need(m, "jobId", id),
      attempt: need(m, "attempt", count),
      outcome: need(m, "outcome", outcome),
    };
    const followed = maybe(m, "followed", jobAttempt);
    if (followed !== undefined) event.followed = followed;
    return event;
  },
  "job-logs": (m) => ({
    type: "job-logs",
    pipelineId: pipelineId(m),
    jobId: need(m, "jobId", id),
    attempt: need(m, "attempt", count),
    records: need(m, "records", logRecords),
  }),
  "goodbye": () => ({ type: "goodbye" }),
  "host-lost": (m) => {
    const event: HostLostEvent = {
      type: "host-lost",
      host: need(m, "host", id),
      pid: need(m, "pid", count),
      error: need(m, "error", errorData),
    };
    const running = maybe(m, "running", runningJob);
    if (running !== undefined) event.running = running;
    return event;
  },
  "pipeliner-status": (m) => ({ type: "pipeliner-status", active: need(m, "active", count) }),
  "job-request": (m) => {
    const event: JobRequestEvent = {
      type: "job-request",
      pipelineId: pipelineId(m),
      jobId: need(m, "jobId", id),
      fn: need(m, "fn", functionName),
      input: need(m, "input", jsonObject),
    };
    const plan = maybe(m, "plan", topPlan);
    if (plan !== undefined) event.plan = plan;
    return event;
  },
  "pipeline-finish": (m) => ({
    type: "pipeline-finish",
    pipelineId: pipelineId(m),
    status: need(m, "status", finishStatus),
    document: need(m, "document", jsonObject),
  }),
};

// `maybe` passes only the value: the top plan and follower start at their depths.
const topPlan = (value: unknown) => jobPlan(value);
const topFollower = (value: unknown) => jobFollower(value);

/** Readers of each event from the Router, by type. */
export const PEER_EVENTS: {
  [T in PeerEvent["type"]]: (m: Fields) => Extract<PeerEvent, { type: T }>;
} = {
  "job-run": (m) => {
    const event: JobRunEvent = {
      type: "job-run",
      pipelineId: pipelineId(m),
      jobId: need(m, "jobId", id),
      fn: need(m, "fn", id),
      attempt: need(m, "attempt", count),
      input: need(m, "input", jsonObject),
    };
    const then = maybe(m, "then", topFollower);
    if (then !== undefined) event.then = then;
    const alone = maybe(m, "alone", flag);
    if (alone !== undefined) event.alone = alone;
    const parent = maybe(m, "traceparent", traceparent);
    if (parent !== undefined) event.traceparent = parent;
    return event;
  },
  "job-cancel": (m) => {
    const event: JobCancelEvent = {
      type: "job-cancel",
      pipelineId: pipelineId(m),
      jobId: need(m, "jobId", id),
    };
    const attempt = maybe(m, "attempt", count);
    if (attempt !== undefined) event.attempt = attempt;
    return event;
  },
  "pipeline-assign": (m) => {
    const event: PipelineAssignEvent = {
      type: "pipeline-assign",
      pipelineId: pipelineId(m),
      spec: need(m, "spec", pipelineSpec),
      jobs: need(m, "jobs", jobRecords),
    };
    const parent = maybe(m, "traceparent", traceparent);
    if (parent !== undefined) event.traceparent = parent;
    return event;
  },
  "job-result": (m) => {
    const event: JobResultEvent = {
      type: "job-result",
      pipelineId: pipelineId(m),
      jobId: need(m, "jobId", id),
      outcome: need<JobOutcome>(m, "outcome", outcome),
    };
    if (maybe(m, "skipped", flag)) event.skipped = true;
    return event;
  },
  "pipeline-cancel": (m) => ({ type: "pipeline-cancel", pipelineId: pipelineId(m) }),
  "hello-again": () => ({ type: "hello-again" }),
  "functions-manifest": functionsManifest,
  "error": (m) => ({ type: "error", error: need(m, "error", errorData) }),
};

export function isRequestType(type: string): type is Request["type"] {
  return Object.hasOwn(REQUESTS, type);
}
export function isRouterEventType(type: string): type is RouterEvent["type"] {
  return Object.hasOwn(ROUTER_EVENTS, type);
}
export function isPeerEventType(type: string): type is PeerEvent["type"] {
  return Object.hasOwn(PEER_EVENTS, type);
}
