/**
 * The raw libzmq calls on one socket, apart from the socket's bookkeeping: one whole
 * message in or out, frame by frame, without blocking (the transport's hot path), and
 * its options.
 *
 * @module
 */
import { DONTWAIT, EAGAIN, EINTR, SNDMORE } from "./constants.ts";
import type { ZmqError } from "./errors.ts";
import type { ZmqSymbols } from "./_ffi.ts";

/** What the calls need of the socket's context. */
export interface MessageIoHost {
  readonly lib: ZmqSymbols;
  /** Raise the last libzmq error as a {@linkcode ZmqError}. */
  error(operation: string): ZmqError;
}

/** Writes a whole message; false when libzmq would block before its first frame. */
export function writeMessage(
  host: MessageIoHost,
  handle: Deno.PointerValue,
  frames: readonly Uint8Array[],
): boolean {
  const lib = host.lib;
  const last = frames.length - 1;
  for (let i = 0; i <= last; i++) {
    const frame = frames[i]!;
    const flags = DONTWAIT | (i < last ? SNDMORE : 0);
    while (lib.zmq_send(handle, frame, BigInt(frame.length), flags) < 0) {
      const errno = lib.zmq_errno();
      if (errno === EINTR) continue;
      // libzmq accepts the rest of a message once its first frame is in.
      if (errno === EAGAIN && i === 0) return false;
      throw host.error("send");
    }
  }
  return true;
}

/** A socket's cap on a whole message, and its count of messages dropped over it. */
export interface MessageCap {
  readonly maxMessageBytes: number;
  oversized: number;
  /** Put the connection's ZAP `User-Id` first, as a frame of its own (empty for none). */
  readonly userIdFrame: boolean;
}

const USER_ID = new TextEncoder().encode("User-Id\0");
const encoder = new TextEncoder();
const NONE = new Uint8Array(0);

/**
 * The `User-Id` a ZAP handler gave the connection `msg` came over; empty when it has
 * none (inproc, where libzmq runs no security mechanism, or no ZAP handler).
 */
function userIdOf(lib: ZmqSymbols, msg: Uint8Array): Uint8Array {
  const value = lib.zmq_msg_gets(msg, USER_ID);
  return value === null ? NONE : encoder.encode(Deno.UnsafePointerView.getCString(value));
}

/**
 * Reads one whole message, or undefined when none is waiting. A message over
 * `cap.maxMessageBytes` in all is read past and counted in `cap.oversized`. `msg` is
 * the socket's one `zmq_msg_t`, initialised once: `zmq_msg_recv` releases what it held.
 */
export function readMessage(
  host: MessageIoHost,
  handle: Deno.PointerValue,
  msg: Uint8Array,
  cap: MessageCap,
): Uint8Array[] | undefined {
  const lib = host.lib;
  const maxBytes = cap.maxMessageBytes;
  const frames: Uint8Array[] = [];
  let total = 0;
  /** Frames received of this message, and whether its User-Id was read. */
  let index = 0;
  let userIdRead = !cap.userIdFrame;
  while (true) {
    const size = lib.zmq_msg_recv(msg, handle, DONTWAIT);
    if (size < 0) {
      const errno = lib.zmq_errno();
      if (errno === EINTR) continue;
      if (errno === EAGAIN && frames.length === 0) return undefined;
      throw host.error("receive");
    }
    // libzmq caps each tcp frame only: many frames (or inproc) could still add up
    // to any size, so the whole message is counted, and dropped once over.
    total += size;
    const more = lib.zmq_msg_more(msg) !== 0;
    if (!userIdRead) {
      if (index === 0) frames.push(NONE); // Its place, first.
      // A ROUTER's routing id frame does not always carry the connection's properties
      // (not when libzmq read ahead); the frame after it does.
      if (index === 1 || !more) {
        frames[0] = userIdOf(lib, msg);
        userIdRead = true;
      }
    }
    index++;
    if (total <= maxBytes) {
      const frame = new Uint8Array(size);
      if (size > 0) Deno.UnsafePointerView.copyInto(lib.zmq_msg_data(msg)!, frame);
      frames.push(frame);
    }
    if (more) continue;
    if (total <= maxBytes) return frames;
    cap.oversized++;
    frames.length = 0;
    total = 0;
    index = 0;
    userIdRead = !cap.userIdFrame;
  }
}

/** Sets a socket option from its bytes. */
export function setOption(
  host: MessageIoHost,
  handle: Deno.PointerValue,
  option: number,
  value: Uint8Array,
): void {
  if (host.lib.zmq_setsockopt(handle, option, value, BigInt(value.length)) !== 0) {
    throw host.error(`setsockopt ${option}`);
  }
}

/** Reads a socket option's bytes, at most `max` of them. */
export function getOption(
  host: MessageIoHost,
  handle: Deno.PointerValue,
  option: number,
  max: number,
): Uint8Array {
  const out = new Uint8Array(max);
  const size = new BigUint64Array([BigInt(max)]);
  if (host.lib.zmq_getsockopt(handle, option, out, size) !== 0) {
    throw host.error(`getsockopt ${option}`);
  }
  return out.subarray(0, Number(size[0]));
}
