/**
 * One ZeroMQ socket with a promise-based API. Sockets are made by
 * {@linkcode Context.socket}; their I/O is driven by the context's poll loop.
 *
 * @module
 */
import { OPT, POLLIN, POLLOUT } from "./constants.ts";
import type { SocketType } from "./constants.ts";
import { SocketClosedError } from "./errors.ts";
import type { ZmqError } from "./errors.ts";
import type { ZmqSymbols } from "./_ffi.ts";
import { getOption, readMessage, setOption, writeMessage } from "./_message_io.ts";
import { Queue } from "./_queue.ts";
import { SendLanes } from "./_send_lanes.ts";
import type { TcpAliases } from "./_tcp_aliases.ts";

export type { SocketOptions } from "./_socket_options.ts";

/** One frame or a whole multipart message, as given to {@linkcode Socket.send}. */
export type Frames = Uint8Array | string | ReadonlyArray<Uint8Array | string>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(value: Uint8Array | string): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

function cString(value: string): Uint8Array {
  return encoder.encode(`${value}\0`);
}

/** What the owning context gives a socket. */
export interface SocketHost {
  readonly lib: ZmqSymbols;
  /** Something changed: run the loop. */
  kick(): void;
  /** Forget a socket that has been closed. */
  release(socket: Socket): void;
  /** Raise the last libzmq error as a {@linkcode ZmqError}. */
  error(operation: string): ZmqError;
  /** In the process's shared engine: tcp endpoints bound here, with their inproc aliases. */
  readonly aliases?: TcpAliases;
}

interface PendingReceive {
  resolve: (frames: Uint8Array[]) => void;
  reject: (error: Error) => void;
}

/** Messages read ahead of `receive()` calls, at most. */
const READ_AHEAD = 512;
/** Back-off when a ROUTER has POLLOUT but the addressed peer is still full. */
const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 20;

/** A ZeroMQ socket. Not thread-safe by nature; all I/O goes through the context loop. */
export class Socket implements AsyncIterable<Uint8Array[]> {
  /** The socket kind. */
  readonly type: SocketType;
  #host: SocketHost;
  #handle: Deno.PointerValue;
  #sends: SendLanes;
  #receives = new Queue<PendingReceive>();
  #inbox = new Queue<Uint8Array[]>();
  #closed = false;
  #retryAt = 0;
  #retryDelay = RETRY_MIN_MS;
  #msg = new Uint8Array(64);
  #int = new Int32Array(1);
  /** Endpoints connected through an inproc alias: what was asked -> the alias. */
  #routes: Map<string, string> | undefined;

  /** @internal A message whose frames add up to more is dropped as it is read (see `maxMessageSize`). */
  maxMessageBytes = Infinity;
  /** @internal Each message read starts with its connection's User-Id (see `userIdFrame`). */
  userIdFrame = false;
  /** Messages dropped for being over `maxMessageSize`, for metrics. */
  oversized = 0;
  /** Whether libzmq's `ZMQ_MAXMSGSIZE` is set (at the first bind). */
  #frameCapSet = false;

  /** @internal The `ZMQ_FD` descriptor the context's helper thread waits on. */
  readonly fd: number;

  /** @internal Made by {@linkcode Context.socket}. */
  constructor(host: SocketHost, handle: Deno.PointerValue, type: SocketType, fd: number) {
    this.#host = host;
    this.#handle = handle;
    this.type = type;
    this.fd = fd;
    this.#sends = new SendLanes(type === "router");
    host.lib.zmq_msg_init(this.#msg);
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * @internal Set by the context while its helper thread waits on this socket's
   * descriptor: the handle is then closed only once the wait returns.
   */
  waitedOn = false;

  /** @internal The native handle, for the context's poll set. */
  get handle(): Deno.PointerValue {
    return this.#handle;
  }

  /**
   * Binds to an endpoint and returns the endpoint actually bound (resolves `:0` and `*`).
   * In the process's shared context a tcp endpoint gets an inproc alias as well, which
   * connects from that context use instead.
   */
  bind(endpoint: string): string {
    this.#idle("bind");
    // Only where peers connect in: libzmq drops a peer whose frame is over
    // `ZMQ_MAXMSGSIZE` as a protocol error, after which a connecting socket never
    // reconnects (the peer's side just reconnects). Connects rely on the count in #read.
    if (!this.#frameCapSet && this.maxMessageBytes !== Infinity) {
      this.setInt64Option(OPT.MAXMSGSIZE, this.maxMessageBytes);
      this.#frameCapSet = true;
    }
    if (this.#host.lib.zmq_bind(this.#handle, cString(endpoint)) !== 0) {
      throw this.#host.error(`bind to "${endpoint}"`);
    }
    const resolved = this.lastEndpoint;
    const aliases = this.#host.aliases;
    const alias = aliases?.add(this, endpoint, resolved);
    // Without its alias the endpoint still works, over tcp only.
    if (alias && this.#host.lib.zmq_bind(this.#handle, cString(alias)) !== 0) {
      aliases!.remove(this, resolved);
    }
    return resolved;
  }

  /** Stops listening on an endpoint returned by {@linkcode bind}. */
  unbind(endpoint: string): void {
    this.#idle("unbind");
    if (this.#host.lib.zmq_unbind(this.#handle, cString(endpoint)) !== 0) {
      throw this.#host.error(`unbind from "${endpoint}"`);
    }
    const alias = this.#host.aliases?.aliasOf(this, endpoint);
    if (alias) {
      this.#host.aliases!.remove(this, endpoint);
      this.#host.lib.zmq_unbind(this.#handle, cString(alias));
    }
  }

  /**
   * Connects to an endpoint (the connection completes in the background). In the
   * process's shared context, a tcp endpoint that one of its sockets has bound is
   * reached through that socket's inproc alias.
   */
  connect(endpoint: string): void {
    this.#idle("connect");
    const target = this.#host.aliases?.route(endpoint) ?? endpoint;
    if (this.#host.lib.zmq_connect(this.#handle, cString(target)) !== 0) {
      throw this.#host.error(`connect to "${endpoint}"`);
    }
    if (target !== endpoint) (this.#routes ??= new Map()).set(endpoint, target);
  }

  /** Drops a connection made by {@linkcode connect}. */
  disconnect(endpoint: string): void {
    this.#idle("disconnect");
    const target = this.#routes?.get(endpoint) ?? endpoint;
    if (this.#host.lib.zmq_disconnect(this.#handle, cString(target)) !== 0) {
      throw this.#host.error(`disconnect from "${endpoint}"`);
    }
    this.#routes?.delete(endpoint);
  }

  /**
   * The last endpoint bound or connected, as libzmq resolved it (e.g.
   * `tcp://127.0.0.1:41234`). A connect that travels through an inproc alias shows
   * the alias (`inproc://pipelinin-tcp-0/127.0.0.1:5555`); a bind shows its tcp endpoint.
   */
  get lastEndpoint(): string {
    const buffer = this.getBytesOption(OPT.LAST_ENDPOINT, 1024);
    const end = buffer.indexOf(0);
    const value = decoder.decode(end >= 0 ? buffer.subarray(0, end) : buffer);
    return this.#host.aliases?.endpointOf(this, value) ?? value;
  }

  /** SUB: starts receiving messages that begin with `prefix` (`""` for all). */
  subscribe(prefix: Uint8Array | string = ""): void {
    this.setBytesOption(OPT.SUBSCRIBE, bytes(prefix));
  }

  /** SUB: stops a subscription made by {@linkcode subscribe}. */
  unsubscribe(prefix: Uint8Array | string = ""): void {
    this.setBytesOption(OPT.UNSUBSCRIBE, bytes(prefix));
  }

  /** Sets an integer option (`ZMQ_*` number). */
  setIntOption(option: number, value: number): void {
    this.#int[0] = value;
    this.setBytesOption(option, new Uint8Array(this.#int.buffer));
  }

  /** Reads an integer option (`ZMQ_*` number). */
  getIntOption(option: number): number {
    this.#idle("getsockopt");
    return new Int32Array(getOption(this.#host, this.#handle, option, 4).slice().buffer)[0]!;
  }

  /** Sets a 64-bit integer option such as `ZMQ_MAXMSGSIZE`. */
  setInt64Option(option: number, value: number): void {
    const buffer = new BigInt64Array([BigInt(value)]);
    this.setBytesOption(option, new Uint8Array(buffer.buffer));
  }

  /** Sets a binary option. */
  setBytesOption(option: number, value: Uint8Array): void {
    this.#idle("setsockopt");
    setOption(this.#host, this.#handle, option, value);
  }

  /** Reads a binary option of at most `max` bytes. */
  getBytesOption(option: number, max = 256): Uint8Array {
    this.#idle("getsockopt");
    return getOption(this.#host, this.#handle, option, max);
  }

  /**
   * Sends one message (one or more frames). Resolves once libzmq has queued it;
   * waits, never drops, while the peer is at its high-water mark.
   *
   * @throws {ZmqError} e.g. `EHOSTUNREACH` from a ROUTER to an unknown peer.
   * @throws {SocketClosedError} when the socket closes first.
   */
  send(message: Frames): Promise<void> {
    if (this.#closed) return Promise.reject(new SocketClosedError());
    const frames = typeof message === "string" || message instanceof Uint8Array
      ? [bytes(message)]
      : message.map(bytes);
    if (frames.length === 0) {
      return Promise.reject(new TypeError("A message needs at least one frame"));
    }
    if (this.#sends.isClear(frames)) {
      try {
        if (this.#write(frames)) return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      } finally {
        this.#touched(); // Sent or not: zmq_send processed the socket's commands first.
      }
    }
    return new Promise<void>((resolve, reject) => {
      this.#sends.push({ frames, resolve, reject });
      this.#host.kick();
    });
  }

  /**
   * Receives the next message as its frames.
   *
   * @throws {SocketClosedError} when the socket closes while waiting.
   */
  receive(): Promise<Uint8Array[]> {
    const ready = this.#inbox.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#closed) return Promise.reject(new SocketClosedError());
    // Reading here while earlier calls still wait would hand them later messages.
    if (this.#receives.length === 0) {
      try {
        const frames = this.#read();
        if (frames) return Promise.resolve(frames);
      } catch (error) {
        return Promise.reject(error);
      } finally {
        this.#touched();
      }
    }
    return new Promise<Uint8Array[]>((resolve, reject) => {
      this.#receives.push({ resolve, reject });
      this.#host.kick();
    });
  }

  /**
   * Returns a message that is already waiting, without waiting; undefined when none is.
   * Lets a server handle a burst of messages as one batch (one store commit, say).
   */
  tryReceive(): Uint8Array[] | undefined {
    const ready = this.#inbox.shift();
    if (ready || this.#closed || this.#receives.length > 0) return ready;
    try {
      return this.#read();
    } finally {
      this.#touched();
    }
  }

  /** Yields each message received until the socket closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array[]> {
    while (true) {
      try {
        yield await this.receive();
      } catch (error) {
        if (error instanceof SocketClosedError) return;
        throw error;
      }
    }
  }

  /**
   * Closes the socket: pending sends and receives reject with {@linkcode SocketClosedError}.
   * Queued outgoing messages get `linger` ms to leave.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const error = new SocketClosedError();
    for (const pending of this.#sends.drain()) pending.reject(error);
    for (const pending of this.#receives.drain()) pending.reject(error);
    this.#inbox.drain();
    if (this.waitedOn) {
      this.#host.kick(); // The loop closes the handle once the helper's wait returns.
    } else {
      this.destroy();
    }
  }

  /** @internal Closes the native handle; never while the helper waits on it. */
  destroy(): void {
    if (this.#handle === null) return;
    this.#host.lib.zmq_msg_close(this.#msg);
    this.#host.lib.zmq_close(this.#handle);
    this.#handle = null;
    this.#host.release(this);
  }

  /** @internal The poll events this socket waits for now (0 for none). */
  interest(now: number): number {
    if (this.#closed) return 0;
    let events = 0;
    if (this.#receives.length > 0) events |= POLLIN;
    if (this.#sends.length > 0 && this.#retryAt <= now) events |= POLLOUT;
    return events;
  }

  /** @internal When a blocked send should be retried (ms timestamp), or 0. */
  get retryAt(): number {
    return this.#sends.length > 0 ? this.#retryAt : 0;
  }

  /** @internal Does the work that `revents` allows. */
  service(revents: number, now: number): void {
    if (this.#closed) return;
    if (revents & POLLOUT) this.#flush(now);
    if (revents & POLLIN) this.#deliver();
  }

  #flush(now: number): void {
    const sent = this.#sends.flush((frames) => this.#write(frames));
    if (this.#sends.length === 0 || sent > 0) {
      this.#retryAt = 0;
      this.#retryDelay = RETRY_MIN_MS;
    } else {
      // POLLOUT fired yet the addressed peers are still full (ROUTER): back off.
      this.#retryAt = now + this.#retryDelay;
      this.#retryDelay = Math.min(this.#retryDelay * 2, RETRY_MAX_MS);
    }
  }

  #deliver(): void {
    while (this.#receives.length > 0 || this.#inbox.length < READ_AHEAD) {
      let frames: Uint8Array[] | undefined;
      try {
        frames = this.#read();
      } catch (error) {
        const reason = error instanceof Error ? error : new Error(String(error));
        for (const pending of this.#receives.drain()) pending.reject(reason);
        return;
      }
      if (!frames) return;
      const waiter = this.#receives.shift();
      if (waiter) waiter.resolve(frames);
      else this.#inbox.push(frames);
    }
  }

  /** Writes a whole message; false when libzmq would block before its first frame. */
  #write(frames: Uint8Array[]): boolean {
    return writeMessage(this.#host, this.#handle, frames);
  }

  /** Reads one whole message, or undefined when none is waiting. */
  #read(): Uint8Array[] | undefined {
    return readMessage(this.#host, this.#handle, this.#msg, this);
  }

  #idle(operation: string): void {
    if (this.#closed || this.#handle === null) {
      throw new SocketClosedError(`Cannot ${operation}: socket is closed`);
    }
    // Whatever libzmq does with the socket now may take the signal the helper waits for.
    this.#touched();
  }

  /**
   * After JS called libzmq on this socket: libzmq may have taken the descriptor's
   * signal (a message came in, or a full peer took some), so the helper thread would
   * sleep through it; a waiting receive or send has the loop look again.
   */
  #touched(): void {
    if (this.#receives.length > 0 || this.#sends.length > 0) this.#host.kick();
  }
}
