/**
 * The options a socket is made with, and how they map onto libzmq's `ZMQ_*` options.
 *
 * @module
 */
import { OPT } from "./constants.ts";
import type { Socket } from "./socket.ts";

/** Options applied when a socket is made (all optional). */
export interface SocketOptions {
  /** `ZMQ_ROUTING_ID`: this socket's identity as seen by a ROUTER peer. */
  routingId?: Uint8Array | string;
  /** `ZMQ_LINGER` in ms: how long unsent messages are kept at close. Default 200. */
  linger?: number;
  /** `ZMQ_SNDHWM`: queued outgoing messages per peer before `send` waits. */
  sendHwm?: number;
  /** `ZMQ_RCVHWM`: queued incoming messages per peer. */
  receiveHwm?: number;
  /** `ZMQ_ROUTER_MANDATORY`: unroutable sends fail with `EHOSTUNREACH` instead of vanishing. Default true for ROUTER. */
  routerMandatory?: boolean;
  /** `ZMQ_ROUTER_HANDOVER`: a reconnecting peer with the same routing id takes over. */
  routerHandover?: boolean;
  /**
   * The largest message taken, in bytes; -1 for no limit. Default
   * {@linkcode DEFAULT_MAX_MESSAGE_SIZE}. On every transport, inproc too, a message
   * whose frames add up to more is dropped whole as it is read, so it never reaches JS.
   * A socket that binds also sets it as libzmq's `ZMQ_MAXMSGSIZE`: over tcp and ipc, a
   * peer that sends a bigger frame is disconnected before the frame is read (it may
   * reconnect). A socket that only connects does not, since libzmq would then drop
   * the connection for good.
   */
  maxMessageSize?: number;
  /** `ZMQ_RECONNECT_IVL` in ms. */
  reconnectInterval?: number;
  /** `ZMQ_RECONNECT_IVL_MAX` in ms (exponential back-off up to this). */
  reconnectIntervalMax?: number;
  /** `ZMQ_HEARTBEAT_IVL` in ms: ZMTP PINGs. */
  heartbeatInterval?: number;
  /** `ZMQ_HEARTBEAT_TIMEOUT` in ms. */
  heartbeatTimeout?: number;
  /** `ZMQ_HEARTBEAT_TTL` in ms. */
  heartbeatTtl?: number;
  /** `ZMQ_IMMEDIATE`: queue only to completed connections. */
  immediate?: boolean;
  /** `ZMQ_CURVE_SERVER`: act as CURVE server (needs `curveSecretKey`). */
  curveServer?: boolean;
  /** `ZMQ_CURVE_PUBLICKEY` (Z85 text or 32 bytes). */
  curvePublicKey?: Uint8Array | string;
  /** `ZMQ_CURVE_SECRETKEY` (Z85 text or 32 bytes). */
  curveSecretKey?: Uint8Array | string;
  /** `ZMQ_CURVE_SERVERKEY`: the server's public key, on a CURVE client. */
  curveServerKey?: Uint8Array | string;
  /**
   * Each message received starts with one more frame: the `User-Id` that the ZAP
   * handler gave its connection (empty when it has none: inproc, where libzmq runs no
   * security mechanism, or a connection no ZAP handler saw). Default false.
   */
  userIdFrame?: boolean;
  /** SUB sockets: prefixes to subscribe to at once (`""` for everything). */
  subscribe?: ReadonlyArray<Uint8Array | string>;
}

/**
 * The default of `maxMessageSize`: 64 MiB, well above the largest message pipelinin
 * itself sends (a submit's `data` is capped at 4 MiB by default, a batch of them
 * stays far below), and far below what would exhaust a daemon's heap.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

const encoder = new TextEncoder();

function bytes(value: Uint8Array | string): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

/** Applies `options` to a socket just made. */
export function configure(socket: Socket, options: SocketOptions): void {
  const ints: Array<[number, number | boolean | undefined]> = [
    [OPT.LINGER, options.linger ?? 200],
    [OPT.SNDHWM, options.sendHwm],
    [OPT.RCVHWM, options.receiveHwm],
    [OPT.RECONNECT_IVL, options.reconnectInterval],
    [OPT.RECONNECT_IVL_MAX, options.reconnectIntervalMax],
    [OPT.HEARTBEAT_IVL, options.heartbeatInterval],
    [OPT.HEARTBEAT_TIMEOUT, options.heartbeatTimeout],
    [OPT.HEARTBEAT_TTL, options.heartbeatTtl],
    [OPT.IMMEDIATE, options.immediate],
    [OPT.CURVE_SERVER, options.curveServer],
  ];
  if (socket.type === "router") {
    ints.push([OPT.ROUTER_MANDATORY, options.routerMandatory ?? true]);
    ints.push([OPT.ROUTER_HANDOVER, options.routerHandover]);
  }
  for (const [option, value] of ints) {
    if (value !== undefined) socket.setIntOption(option, Number(value));
  }
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (!Number.isSafeInteger(maxMessageSize) || maxMessageSize < -1) {
    throw new RangeError(`Invalid maxMessageSize "${maxMessageSize}": expected bytes, or -1`);
  }
  socket.maxMessageBytes = maxMessageSize === -1 ? Infinity : maxMessageSize;
  socket.userIdFrame = options.userIdFrame ?? false;
  const keys: Array<[number, Uint8Array | string | undefined]> = [
    [OPT.ROUTING_ID, options.routingId],
    [OPT.CURVE_PUBLICKEY, options.curvePublicKey],
    [OPT.CURVE_SECRETKEY, options.curveSecretKey],
    [OPT.CURVE_SERVERKEY, options.curveServerKey],
  ];
  for (const [option, value] of keys) {
    if (value !== undefined) socket.setBytesOption(option, bytes(value));
  }
  for (const prefix of options.subscribe ?? []) socket.subscribe(prefix);
}
