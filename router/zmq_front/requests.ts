/**
 * What each parsed ZeroMQ message asks of the hub: requests become hub calls whose
 * result (or error) is queued as the reply; events go to the hub's peers.
 *
 * @module
 */
import {
  PipelineValidationError,
  ScheduleValidationError,
  toErrorData,
} from "../../core/errors.ts";
import type {
  PipelineRecord,
  Reply,
  ReplyError,
  Request,
  RouterEvent,
} from "../../core/protocol/mod.ts";
import type { RouterHub } from "../hub/hub.ts";

/** Handles one message from `address` (`viaReq`: a REQ peer, answered in kind). */
export function handleMessage(
  hub: RouterHub,
  address: Uint8Array,
  viaReq: boolean,
  message: Request | RouterEvent,
): void {
  if (!("id" in message)) return hub.peers.event(address, message);
  const id = message.id;
  let reply: Reply;
  try {
    switch (message.type) {
      case "wait":
        return hub.waiters.wait(
          message.pipelineId,
          message.timeoutMs,
          answerer(hub, address, viaReq, id),
        );
      case "submit": {
        const submitted = hub.service.submit(message.pipeline, {
          idempotencyKey: message.idempotencyKey,
          traceparent: message.traceparent,
        });
        if (message.waitMs === undefined) {
          reply = { type: "reply", id, ok: true, result: submitted };
          break;
        }
        return hub.waiters.wait(
          submitted.pipelineId,
          message.waitMs,
          answerer(hub, address, viaReq, id),
        );
      }
      default:
        reply = { type: "reply", id, ok: true, result: request(hub, address, message) };
    }
  } catch (error) {
    reply = { type: "reply", id, ok: false, error: replyError(error) };
  }
  hub.reply(address, viaReq, reply);
}

/** The result of a request that is answered at once. */
function request(
  hub: RouterHub,
  address: Uint8Array,
  message: Exclude<Request, { type: "wait" | "submit" }>,
): unknown {
  switch (message.type) {
    case "status":
      return hub.service.get(message.pipelineId);
    case "cancel":
      return hub.service.cancel(message.pipelineId);
    case "signal":
      return hub.service.signal(message.pipelineId, message.name, message.payload);
    case "get-configuration":
      return hub.clusterConfig;
    case "list-functions":
      return { functions: hub.registry.functions() };
    case "broker-hello":
      return hub.peers.brokerHello(address, message);
    case "pipeliner-hello":
      return hub.peers.pipelinerHello(address, message);
    case "fetch-file":
      return hub.peers.fetchFile(address, message);
    case "create-schedule":
      return hub.schedules.create(message.schedule);
    case "put-schedule":
      return hub.schedules.put(message.scheduleId, message.schedule);
    case "get-schedule":
      return hub.schedules.get(message.scheduleId);
    case "list-schedules":
      return { schedules: hub.schedules.list() };
    case "delete-schedule":
      return hub.schedules.delete(message.scheduleId);
    default: {
      const never: never = message;
      throw new TypeError(`Unhandled request ${JSON.stringify(never)}`);
    }
  }
}

/** The answer to a wait (made only for one: a closure per request would cost every request). */
function answerer(hub: RouterHub, address: Uint8Array, viaReq: boolean, id: string) {
  return (result: PipelineRecord) =>
    hub.reply(address, viaReq, { type: "reply", id, ok: true, result });
}

function replyError(error: unknown): ReplyError {
  const data: ReplyError = toErrorData(error, false);
  delete data.stack;
  if (error instanceof PipelineValidationError || error instanceof ScheduleValidationError) {
    data.problems = [...error.problems];
  }
  return data;
}
