/**
 * Parses raw frames into the typed messages of `messages.ts`, at the edge: every
 * field is read into its typed value (nested ones too), unknown extra fields are
 * left out, and a bad field fails with a {@linkcode ProtocolError} that names it.
 * Inputs, outputs and documents are checked only to be JSON objects: `JSON.parse`
 * made them JSON, and walking them again would cost every job.
 *
 * @module
 */
import { noteEncodedSize } from "../dag/validate.ts";
import {
  type PeerEvent,
  PROTOCOL,
  PROTOCOL_LIMITS,
  type Reply,
  type Request,
  type RouterEvent,
} from "./messages.ts";
import { ProtocolError } from "./protocol_error.ts";
import { FieldError, type Fields, flag, id, isFields, need } from "./_fields.ts";
import { replyError } from "./_values.ts";
import { fileContent } from "./_manifest.ts";
import type { FileContent } from "./messages.ts";
import {
  isPeerEventType,
  isRequestType,
  isRouterEventType,
  PEER_EVENTS,
  REQUESTS,
  ROUTER_EVENTS,
} from "./_tables.ts";

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
    if (requestId.length > PROTOCOL_LIMITS.maxIdLength) {
      throw new ProtocolError(
        `Request "${type}" has an "id" longer than ${PROTOCOL_LIMITS.maxIdLength} characters`,
      );
    }
    let request: Request;
    try {
      request = REQUESTS[type](message, requestId);
    } catch (error) {
      throw fieldProblem(error, type, requestId);
    }
    // Its `data` is no bigger than this frame: validating it need not encode it again.
    if (request.type === "submit") noteEncodedSize(request.pipeline, frames[1]!.length);
    return request;
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

/**
 * Parses the result of a `fetch-file` reply (replies carry their result unparsed).
 *
 * @throws {ProtocolError} naming the bad field.
 */
export function parseFileContent(result: unknown): FileContent {
  try {
    return fileContent(result);
  } catch (error) {
    throw fieldProblem(error, "fetch-file reply");
  }
}
