/**
 * Frames and batches. Every message on the Router's request socket is two frames,
 * `PROTOCOL` then one JSON object; a batch is `PROTOCOL` then several JSON frames,
 * each one message, handled in order. The broadcast socket carries `[topic, JSON]`.
 *
 * @module
 */
import {
  type PeerEvent,
  type PipelineEndedBroadcast,
  PROTOCOL,
  type Reply,
  type Request,
  type RouterEvent,
} from "./messages.ts";

const encoder = new TextEncoder();
/** The first frame, encoded once. */
export const protocolFrame: Uint8Array = encoder.encode(PROTOCOL);

/** Any message. */
export type Message = Request | Reply | RouterEvent | PeerEvent;

/** The frames of one message: protocol frame, then its JSON. */
export function encode(message: Message): Uint8Array[] {
  return [protocolFrame, encoder.encode(JSON.stringify(message))];
}

/** The most messages one batch carries. */
export const MAX_BATCH = 256;

/**
 * Encodes messages as batches: `PROTOCOL`, then one JSON frame per message, at most
 * {@linkcode MAX_BATCH} per batch. One message alone is a plain two-frame message.
 */
export function encodeBatches(bodies: readonly Uint8Array[]): Uint8Array[][] {
  const batches: Uint8Array[][] = [];
  for (let at = 0; at < bodies.length; at += MAX_BATCH) {
    batches.push([protocolFrame, ...bodies.slice(at, at + MAX_BATCH)]);
  }
  return batches;
}

/** The JSON frame of one message (its second frame). */
export function encodeBody(message: Message): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/**
 * Splits a batch (`PROTOCOL`, then several JSON frames) into two-frame messages; any
 * other message comes back whole, for the parser to judge.
 */
export function splitBatch(frames: Uint8Array[]): Uint8Array[][] {
  if (frames.length <= 2 || !sameBytes(frames[0]!, protocolFrame)) return [frames];
  return frames.slice(1).map((json) => [frames[0]!, json]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The broadcast topic for the end of one pipeline. */
export function endedTopic(pipelineId: string): string {
  return `pipeline.ended.${pipelineId}`;
}

/** Encodes a broadcast: `[topic, JSON]`. */
export function encodeBroadcast(message: PipelineEndedBroadcast): Uint8Array[] {
  return [encoder.encode(endedTopic(message.pipelineId)), encoder.encode(JSON.stringify(message))];
}
