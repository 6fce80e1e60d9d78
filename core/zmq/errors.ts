/**
 * Errors raised by the ZeroMQ transport.
 *
 * @module
 */
import { errnoName } from "./constants.ts";

/** A libzmq call failed; `code` is the errno name (`EAGAIN`, `EHOSTUNREACH`, ...). */
export class ZmqError extends Error {
  override name = "ZmqError";
  /** The errno name, e.g. `EHOSTUNREACH`. */
  readonly code: string;
  /** The numeric errno. */
  readonly errno: number;
  constructor(operation: string, errno: number, detail: string, options?: ErrorOptions) {
    super(`${operation} failed: ${errnoName(errno)} (${detail})`, options);
    this.code = errnoName(errno);
    this.errno = errno;
  }
}

/** An operation was pending, or was started, on a socket that is closed. */
export class SocketClosedError extends Error {
  override name = "SocketClosedError";
  /** Always `ECLOSED`, so callers may switch on `code` as for {@linkcode ZmqError}. */
  readonly code = "ECLOSED";
  constructor(what = "Socket is closed") {
    super(what);
  }
}
