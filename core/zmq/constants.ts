/**
 * Numeric constants of the libzmq C API (from `zmq.h`, stable since libzmq 4.3).
 *
 * @module
 */

/** Socket kinds pipelinin exposes, by their lower-case ZeroMQ names. */
export type SocketType =
  | "pair"
  | "pub"
  | "sub"
  | "req"
  | "rep"
  | "dealer"
  | "router"
  | "pull"
  | "push"
  | "xpub"
  | "xsub";

/** `ZMQ_PAIR` ... `ZMQ_XSUB` by name. */
export const SOCKET_TYPES: Readonly<Record<SocketType, number>> = {
  pair: 0,
  pub: 1,
  sub: 2,
  req: 3,
  rep: 4,
  dealer: 5,
  router: 6,
  pull: 7,
  push: 8,
  xpub: 9,
  xsub: 10,
};

/** Socket option numbers used by pipelinin. */
export const OPT = {
  ROUTING_ID: 5,
  SUBSCRIBE: 6,
  UNSUBSCRIBE: 7,
  RCVMORE: 13,
  EVENTS: 15,
  TYPE: 16,
  LINGER: 17,
  RECONNECT_IVL: 18,
  BACKLOG: 19,
  RECONNECT_IVL_MAX: 21,
  MAXMSGSIZE: 22,
  SNDHWM: 23,
  RCVHWM: 24,
  LAST_ENDPOINT: 32,
  ROUTER_MANDATORY: 33,
  IMMEDIATE: 39,
  IPV6: 42,
  CURVE_SERVER: 47,
  CURVE_PUBLICKEY: 48,
  CURVE_SECRETKEY: 49,
  CURVE_SERVERKEY: 50,
  ROUTER_HANDOVER: 56,
  HANDSHAKE_IVL: 66,
  HEARTBEAT_IVL: 75,
  HEARTBEAT_TTL: 76,
  HEARTBEAT_TIMEOUT: 77,
  CONNECT_TIMEOUT: 79,
} as const;

/** Flags for `zmq_send` / `zmq_msg_recv`. */
export const DONTWAIT = 1;
/** More frames follow this one. */
export const SNDMORE = 2;
/** `zmq_poll` event bits. */
export const POLLIN = 1;
/** `zmq_poll` event bits. */
export const POLLOUT = 2;

const HAUSNUMERO = 156384712;

const LINUX_ERRNO: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  19: "ENODEV",
  22: "EINVAL",
  24: "EMFILE",
  88: "ENOTSOCK",
  90: "EMSGSIZE",
  93: "EPROTONOSUPPORT",
  95: "ENOTSUP",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  102: "ENETRESET",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  107: "ENOTCONN",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  113: "EHOSTUNREACH",
  115: "EINPROGRESS",
};

const DARWIN_ERRNO: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  9: "EBADF",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  19: "ENODEV",
  22: "EINVAL",
  24: "EMFILE",
  35: "EAGAIN",
  36: "EINPROGRESS",
  38: "ENOTSOCK",
  40: "EMSGSIZE",
  43: "EPROTONOSUPPORT",
  45: "ENOTSUP",
  47: "EAFNOSUPPORT",
  48: "EADDRINUSE",
  49: "EADDRNOTAVAIL",
  50: "ENETDOWN",
  51: "ENETUNREACH",
  52: "ENETRESET",
  53: "ECONNABORTED",
  54: "ECONNRESET",
  55: "ENOBUFS",
  57: "ENOTCONN",
  60: "ETIMEDOUT",
  61: "ECONNREFUSED",
  65: "EHOSTUNREACH",
};

const ZMQ_ERRNO: Readonly<Record<number, string>> = {
  [HAUSNUMERO + 1]: "ENOTSUP",
  [HAUSNUMERO + 2]: "EPROTONOSUPPORT",
  [HAUSNUMERO + 3]: "ENOBUFS",
  [HAUSNUMERO + 4]: "ENETDOWN",
  [HAUSNUMERO + 5]: "EADDRINUSE",
  [HAUSNUMERO + 6]: "EADDRNOTAVAIL",
  [HAUSNUMERO + 7]: "ECONNREFUSED",
  [HAUSNUMERO + 8]: "EINPROGRESS",
  [HAUSNUMERO + 9]: "ENOTSOCK",
  [HAUSNUMERO + 10]: "EMSGSIZE",
  [HAUSNUMERO + 11]: "EAFNOSUPPORT",
  [HAUSNUMERO + 12]: "ENETUNREACH",
  [HAUSNUMERO + 13]: "ECONNABORTED",
  [HAUSNUMERO + 14]: "ECONNRESET",
  [HAUSNUMERO + 15]: "ENOTCONN",
  [HAUSNUMERO + 16]: "ETIMEDOUT",
  [HAUSNUMERO + 17]: "EHOSTUNREACH",
  [HAUSNUMERO + 18]: "ENETRESET",
  [HAUSNUMERO + 51]: "EFSM",
  [HAUSNUMERO + 52]: "ENOCOMPATPROTO",
  [HAUSNUMERO + 53]: "ETERM",
  [HAUSNUMERO + 54]: "EMTHREAD",
};

const OS_ERRNO = Deno.build.os === "darwin" ? DARWIN_ERRNO : LINUX_ERRNO;

/** The symbolic name of an errno value as libzmq reports it, e.g. `EAGAIN`. */
export function errnoName(errno: number): string {
  return ZMQ_ERRNO[errno] ?? OS_ERRNO[errno] ?? `E${errno}`;
}

/** The errno value libzmq uses for `EAGAIN` on this OS. */
export const EAGAIN = Deno.build.os === "darwin" ? 35 : 11;
/** The errno value for `EINTR`. */
export const EINTR = 4;
