/**
 * Parses raw frames into the typed messages of `messages.ts`, at the edge: every
 * field is read into its typed value (nested ones too), unknown extra fields are
 * left out, and a bad field fails with a {@linkcode ProtocolError} that names it.
 * Inputs, outputs and documents are checked only to be JSON objects: `JSON.parse`
 * made them JSON, and walking them again would cost every job.
 *
 * @module
 */
import type { JobOutcome } from "./records.ts";
import {
  type BrokerHelloRequest,
  type JobDoneEvent,
  type JobRunEvent,
  type PeerEvent,
  type PipelineFinishEvent,
  PROTOCOL,
  type Reply,
  type Request,
  type RouterEvent,
} from "./messages.ts";
import { ProtocolError } from "./protocol_error.ts";
import {
  amount,
  count,
  FieldError,
  type Fields,
  fields,
  flag,
  id,
  isFields,
  jsonObject,
  maybe,
  need,
  oneOf,
} from "./_fields.ts";
import {
  brokerLoad,
  errorData,
  functionInfos,
  jobAttempt,
  jobFollower,
  jobPlan,
  jobRecords,
  outcome,
  pipelineSpec,
  replyError,
  runningJob,
} from "./_values.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Reads the protocol frame and JSON body; returns the object, with a string `type`. */
function body(frames: readonly Uint8Array[]): { message: Fields; type: string } {
  if (frames.length !== 2) {
    throw new ProtocolError(`Expected 2 frames ("${PROTOCOL}", JSON), got ${frames.length}`);
  }
  let tag: string;
  let text: string;
  try {
    tag = decoder.decode(frames[0]);
    text = decoder.decode(frames[1]);
  } catch {
    throw new ProtocolError("Frames are not valid UTF-8");
  }
  if (tag !== PROTOCOL) {
    throw new ProtocolError(`Unknown protocol "${tag.slice(0, 40)}": expected "${PROTOCOL}"`);
  }
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`Malformed JSON: ${error instanceof Error ? error.message : error}`);
  }
  if (!isFields(message)) throw new ProtocolError("The message must be a JSON object");
  const type = message.type;
  if (typeof type !== "string") {
    throw new ProtocolError('The message has no string "type"', readableId(message));
  }
  return { message, type };
}

function readableId(message: Fields): string | undefined {
  return typeof message.id === "string" ? message.id : undefined;
}

/** Turns a {@linkcode FieldError} into the {@linkcode ProtocolError} of message `type`. */
function fieldProblem(error: unknown, type: string, requestId?: string): unknown {
  if (!(error instanceof FieldError)) return error;
  const top = /^[^.[]*/.exec(error.path)![0];
  const text = top === error.path
    ? `Message "${type}" has a missing or invalid "${top}": it ${error.message}`
    : `Message "${type}" has an invalid "${top}": "${error.path}" ${error.message}`;
  return new ProtocolError(text, requestId, error.path);
}

const pipelineId = (m: Fields) => need(m, "pipelineId", id);

/** Readers of each request, by type; the table must name every request type. */
const REQUESTS: {
  [T in Request["type"]]: (m: Fields, id: string) => Extract<Request, { type: T }>;
} = {
  "submit": (m, requestId) => {
    const request: Extract<Request, { type: "submit" }> = {
      type: "submit",
      id: requestId,
      pipeline: need(m, "pipeline", jsonObject),
    };
    const key = maybe(m, "idempotencyKey", id);
    if (key !== undefined) request.idempotencyKey = key;
    const waitMs = maybe(m, "waitMs", amount);
    if (waitMs !== undefined) request.waitMs = waitMs;
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

function helloPipeliner(value: unknown): { id: string; host: string; pid: number } {
  const o = fields(value);
  return { id: need(o, "id", id), host: need(o, "host", id), pid: need(o, "pid", count) };
}

const finishStatus = oneOf<PipelineFinishEvent["status"]>(["succeeded", "failed", "cancelled"]);

/** Readers of each event to the Router, by type. */
const ROUTER_EVENTS: {
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
  "goodbye": () => ({ type: "goodbye" }),
  "host-lost": (m) => {
    const event: Extract<RouterEvent, { type: "host-lost" }> = {
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
    const event: Extract<RouterEvent, { type: "job-request" }> = {
      type: "job-request",
      pipelineId: pipelineId(m),
      jobId: need(m, "jobId", id),
      fn: need(m, "fn", id),
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
const PEER_EVENTS: { [T in PeerEvent["type"]]: (m: Fields) => Extract<PeerEvent, { type: T }> } = {
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
    return event;
  },
  "job-cancel": (m) => {
    const event: Extract<PeerEvent, { type: "job-cancel" }> = {
      type: "job-cancel",
      pipelineId: pipelineId(m),
      jobId: need(m, "jobId", id),
    };
    const attempt = maybe(m, "attempt", count);
    if (attempt !== undefined) event.attempt = attempt;
    return event;
  },
  "pipeline-assign": (m) => ({
    type: "pipeline-assign",
    pipelineId: pipelineId(m),
    spec: need(m, "spec", pipelineSpec),
    jobs: need(m, "jobs", jobRecords),
  }),
  "job-result": (m) => ({
    type: "job-result",
    pipelineId: pipelineId(m),
    jobId: need(m, "jobId", id),
    outcome: need<JobOutcome>(m, "outcome", outcome),
  }),
  "pipeline-cancel": (m) => ({ type: "pipeline-cancel", pipelineId: pipelineId(m) }),
  "hello-again": () => ({ type: "hello-again" }),
  "error": (m) => ({ type: "error", error: need(m, "error", errorData) }),
};

function isRequestType(type: string): type is Request["type"] {
  return Object.hasOwn(REQUESTS, type);
}
function isRouterEventType(type: string): type is RouterEvent["type"] {
  return Object.hasOwn(ROUTER_EVENTS, type);
}
function isPeerEventType(type: string): type is PeerEvent["type"] {
  return Object.hasOwn(PEER_EVENTS, type);
}

function unknownType(type: string, requestId?: string): ProtocolError {
  return new ProtocolError(`Unknown message type "${type.slice(0, 60)}"`, requestId);
}

/**
 * Parses a message sent to the Router: a request or an event.
 *
 * @throws {ProtocolError} naming the bad field, with `requestId` set when the sender
 *   can be answered.
 */
export function parseToRouter(frames: readonly Uint8Array[]): Request | RouterEvent {
  const { message, type } = body(frames);
  if (isRequestType(type)) {
    const requestId = message.id;
    if (typeof requestId !== "string" || requestId.length === 0) {
      throw new ProtocolError(`Request "${type}" has no string "id"`);
    }
    try {
      return REQUESTS[type](message, requestId);
    } catch (error) {
      throw fieldProblem(error, type, requestId);
    }
  }
  if (isRouterEventType(type)) {
    try {
      return ROUTER_EVENTS[type](message);
    } catch (error) {
      throw fieldProblem(error, type);
    }
  }
  throw unknownType(type, readableId(message));
}

/**
 * Parses a message from the Router: a reply or an event.
 *
 * @throws {ProtocolError} naming the bad field, when it is not one.
 */
export function parseFromRouter(frames: readonly Uint8Array[]): Reply | PeerEvent {
  const { message, type } = body(frames);
  try {
    if (type === "reply") return reply(message);
    if (isPeerEventType(type)) return PEER_EVENTS[type](message);
  } catch (error) {
    throw fieldProblem(error, type);
  }
  throw unknownType(type);
}

function reply(m: Fields): Reply {
  const requestId = need(m, "id", id);
  return need(m, "ok", flag)
    ? { type: "reply", id: requestId, ok: true, result: m.result }
    : { type: "reply", id: requestId, ok: false, error: need(m, "error", replyError) };
}
