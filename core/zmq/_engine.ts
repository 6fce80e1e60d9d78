/**
 * A libzmq context and the one poll loop that drives all of its sockets. A
 * {@linkcode Context} is a handle on one of these: its own, or the process's shared one.
 *
 * The loop first polls on the JS thread with a zero timeout, so a busy loop pays
 * no thread hop; only when nothing is ready does a helper thread wait, in a plain
 * `poll` on the sockets' `ZMQ_FD` descriptors, never on the sockets themselves
 * (libzmq sockets are not thread-safe). So JS goes on sending and receiving while
 * the helper waits: a reply never first stops a wait. After JS touched a socket the
 * loop looks at its `ZMQ_EVENTS` again, since that may have consumed the signal the
 * helper waits for. An inproc PAIR "waker" in the set interrupts the helper when the
 * set of sockets or the next retry time changes, and at close.
 *
 * @module
 */
import { DONTWAIT, OPT, POLLIN, SOCKET_TYPES } from "./constants.ts";
import type { SocketType } from "./constants.ts";
import { SocketClosedError, ZmqError } from "./errors.ts";
import { type Libzmq, loadLibzmq } from "./loader.ts";
import { Socket, type SocketHost } from "./socket.ts";
import { configure, type SocketOptions } from "./_socket_options.ts";
import { TcpAliases } from "./_tcp_aliases.ts";

const ITEM_SIZE = 16; // sizeof(zmq_pollitem_t) on 64-bit POSIX: ptr, int fd, short, short
const OPT_FD = 14; // ZMQ_FD

/** One `zmq_pollitem_t`: a socket handle (or null for a plain descriptor), a descriptor, events. */
type PollItem = [handle: Deno.PointerValue, fd: number, events: number];

/** Writes `items` as `zmq_pollitem_t`s into `buffer`, or into a bigger one it returns. */
function writePollItems(
  buffer: Uint8Array<ArrayBuffer>,
  items: readonly PollItem[],
): Uint8Array<ArrayBuffer> {
  const needed = items.length * ITEM_SIZE;
  const out = buffer.length < needed ? new Uint8Array(needed * 2) : buffer;
  const view = new DataView(out.buffer);
  items.forEach(([handle, fd, events], index) => {
    const offset = index * ITEM_SIZE;
    view.setBigUint64(offset, BigInt(Deno.UnsafePointer.value(handle)), littleEndian);
    view.setInt32(offset + 8, fd, littleEndian);
    view.setInt16(offset + 12, events, littleEndian);
    view.setInt16(offset + 14, 0, littleEndian);
  });
  return out;
}
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let wakerCount = 0;
/**
 * Microtask turns given to JS before a wait, so handlers of what was just received
 * can queue their sends first (an `async` handler needs a few turns per await).
 * Measured here: cheaper than a macrotask yield, and as good for in-process echo.
 */
const YIELDS = 16;

/** Owns sockets and their poll loop. Close it to end the loop and free libzmq. */
export class Engine {
  /** The libzmq this engine uses. */
  readonly libzmq: Libzmq;
  #lib: Libzmq["symbols"];
  #handle: Deno.PointerValue;
  #sockets = new Set<Socket>();
  #wakerIn: Deno.PointerValue;
  #wakerOut: Deno.PointerValue;
  #wakerFd: number;
  #wakeSent = false;
  /** The helper thread's wait, while one is in flight. */
  #helper: Promise<void> | undefined;
  /** The sockets whose descriptors the helper waits on. */
  #helperSockets: Socket[] = [];
  #helperItems = new Uint8Array(ITEM_SIZE * 16);
  /** When the helper's wait times out (ms timestamp), or 0 for never. */
  #helperDeadline = 0;
  /** Bumped when a socket is made, so a helper waiting on an older set is interrupted. */
  #generation = 0;
  #helperGeneration = 0;
  #running = false;
  #closing: Promise<void> | undefined;
  #items = new Uint8Array(ITEM_SIZE * 16);
  #polled: Socket[] = [];
  #events: number[] = [];
  #wakeMsg = new Uint8Array(64);
  #host: SocketHost;
  #hotWaitMs: () => number;
  #hot = false;
  /** Set for the process's shared engine only (see `shareOneContext`). */
  readonly #aliases: TcpAliases | undefined;

  /**
   * Makes an engine, loading libzmq on first use. `hotWaitMs` is asked before each hot
   * wait (see `ContextOptions`). With `aliasTcp`, a tcp endpoint bound here is also
   * bound as an inproc alias, and connects to it from this engine travel inproc.
   */
  constructor(hotWaitMs: () => number, aliasTcp = false) {
    this.#hotWaitMs = hotWaitMs;
    this.#aliases = aliasTcp ? new TcpAliases() : undefined;
    this.libzmq = loadLibzmq();
    this.#lib = this.libzmq.symbols;
    this.#handle = this.#lib.zmq_ctx_new();
    if (this.#handle === null) throw this.#error("zmq_ctx_new");
    const address = new TextEncoder().encode(`inproc://pipelinin-waker-${wakerCount++}\0`);
    this.#wakerIn = this.#lib.zmq_socket(this.#handle, SOCKET_TYPES.pair);
    this.#wakerOut = this.#lib.zmq_socket(this.#handle, SOCKET_TYPES.pair);
    if (
      this.#wakerIn === null || this.#wakerOut === null ||
      this.#lib.zmq_bind(this.#wakerIn, address) !== 0 ||
      this.#lib.zmq_connect(this.#wakerOut, address) !== 0
    ) {
      throw this.#error("waker setup");
    }
    const zero = new Uint8Array(new Int32Array([0]).buffer);
    this.#lib.zmq_setsockopt(this.#wakerIn, 17, zero, 4n);
    this.#lib.zmq_setsockopt(this.#wakerOut, 17, zero, 4n);
    this.#wakerFd = this.#descriptor(this.#wakerIn);
    this.#host = {
      lib: this.#lib,
      kick: () => this.#kick(),
      release: (socket) => {
        this.#sockets.delete(socket);
        this.#aliases?.forget(socket);
      },
      error: (operation) => this.#error(operation),
      aliases: this.#aliases,
    };
  }

  /**
   * Makes a socket of `type` with `options` applied.
   *
   * @throws {ZmqError} when libzmq refuses an option.
   * @throws {SocketClosedError} when the context is closed.
   */
  socket(type: SocketType, options: SocketOptions = {}): Socket {
    if (this.#closing) throw new SocketClosedError("Context is closed");
    const handle = this.#lib.zmq_socket(this.#handle, SOCKET_TYPES[type]);
    if (handle === null) throw this.#error(`zmq_socket(${type})`);
    const socket = new Socket(this.#host, handle, type, this.#descriptor(handle));
    this.#sockets.add(socket);
    this.#generation++;
    try {
      configure(socket, options);
    } catch (error) {
      socket.close();
      throw error;
    }
    return socket;
  }

  /** Sockets whose native handle is still open. */
  get size(): number {
    return this.#sockets.size;
  }

  /**
   * Closes `sockets` and resolves once their native handles are closed too: a socket
   * the helper thread waits on is closed only when that wait returns.
   */
  async closeSockets(sockets: Iterable<Socket>): Promise<void> {
    const open = [...sockets];
    for (const socket of open) socket.close();
    while (open.some((socket) => socket.handle !== null)) {
      this.#kick();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /**
   * Closes every socket (their pending operations reject), stops the poll loop and
   * terminates the libzmq context. Safe to call more than once.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    for (const socket of [...this.#sockets]) socket.close();
    // Sockets the helper waits on are closed once its wait returns.
    while (this.#helper || this.#running) {
      this.#kick();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    for (const socket of [...this.#sockets]) socket.destroy();
    this.#lib.zmq_close(this.#wakerIn);
    this.#lib.zmq_close(this.#wakerOut);
    await this.#lib.zmq_ctx_term(this.#handle);
  }

  #error(operation: string): ZmqError {
    const errno = this.#lib.zmq_errno();
    const text = this.#lib.zmq_strerror(errno);
    const detail = text === null ? "" : Deno.UnsafePointerView.getCString(text);
    return new ZmqError(operation, errno, detail);
  }

  /** `ZMQ_FD`: the descriptor that becomes readable when a socket may have events. */
  #descriptor(handle: Deno.PointerValue): number {
    const out = new Int32Array(1);
    const size = new BigUint64Array([4n]);
    if (this.#lib.zmq_getsockopt(handle, OPT_FD, out, size) !== 0) throw this.#error("ZMQ_FD");
    return out[0]!;
  }

  #kick(): void {
    if (!this.#running) {
      this.#running = true;
      queueMicrotask(() => this.#loop());
    }
  }

  async #loop(): Promise<void> {
    let yielded = false;
    try {
      while (true) {
        await null; // Let resolved receives run their handlers.
        const now = Date.now();
        const count = this.#fillPollSet(now);
        if (count === 0) {
          if (this.#nextRetry(now) === 0) return this.#park(false); // Until a kick.
          await new Promise((resolve) => setTimeout(resolve, 1));
          continue;
        }
        let ready = this.#lib.zmq_poll(this.#items, count, 0);
        if (ready === 0 && !yielded) {
          // Nothing ready: give JS some turns (it may queue sends or receives), then look again.
          yielded = true;
          for (let i = 0; i < YIELDS; i++) await null;
          continue;
        }
        yielded = false;
        const hotWaitMs = ready === 0 && this.#hot ? this.#hotWaitMs() : 0;
        if (hotWaitMs > 0) ready = this.#lib.zmq_poll(this.#items, count, hotWaitMs);
        this.#hot = ready > 0;
        if (ready === 0) return this.#park(true); // The helper's wait (or a kick) runs the loop again.
        if (ready < 0) continue; // EINTR or ETERM: recompute the set.
        this.#dispatch(count);
      }
    } finally {
      this.#running = false;
    }
  }

  /**
   * Leaves the waiting to the helper: interrupts its wait when that is out of date, or
   * starts one when `wait` (something is awaited) and none is in flight.
   */
  #park(wait: boolean): void {
    const retry = this.#nextRetry(Date.now());
    if (this.#helper) {
      const stale = this.#helperGeneration !== this.#generation ||
        this.#helperSockets.some((socket) => socket.closed) ||
        (retry !== 0 && (this.#helperDeadline === 0 || retry < this.#helperDeadline));
      if (stale) this.#interrupt();
      return;
    }
    const open = [...this.#sockets].filter((socket) => !socket.closed);
    if (!wait || open.length === 0) return;
    this.#helperSockets = open;
    // Plain descriptors only (no socket handle): the helper never touches a socket.
    const fds = [...open.map((socket) => socket.fd), this.#wakerFd];
    this.#helperItems = writePollItems(
      this.#helperItems,
      fds.map((fd): PollItem => [null, fd, POLLIN]),
    );
    for (const socket of open) socket.waitedOn = true;
    this.#helperGeneration = this.#generation;
    this.#helperDeadline = retry;
    const timeout = retry === 0 ? -1 : Math.max(0, retry - Date.now());
    this.#helper = this.#lib.zmq_poll_blocking(this.#helperItems, fds.length, timeout).then(
      () => this.#helperReturned(),
      () => this.#helperReturned(),
    );
  }

  #interrupt(): void {
    if (this.#wakeSent) return;
    this.#wakeSent = true;
    this.#lib.zmq_send(this.#wakerOut, new Uint8Array(1), 1n, DONTWAIT);
  }

  #helperReturned(): void {
    this.#helper = undefined;
    for (const socket of this.#helperSockets) {
      socket.waitedOn = false;
      // Reading ZMQ_EVENTS takes the signal, so a socket nobody reads cannot wake the
      // helper again and again; what it reports is polled for again in the loop.
      if (!socket.closed) socket.getIntOption(OPT.EVENTS);
    }
    this.#helperSockets = [];
    // Always: the waker's descriptor also signals commands of its own (its connection).
    while (this.#drainWaker()) { /* until EAGAIN */ }
    this.#wakeSent = false;
    this.#kick();
  }

  /** Reads one wake-up byte; false when none is left. */
  #drainWaker(): boolean {
    this.#lib.zmq_msg_init(this.#wakeMsg);
    const got = this.#lib.zmq_msg_recv(this.#wakeMsg, this.#wakerIn, DONTWAIT);
    this.#lib.zmq_msg_close(this.#wakeMsg);
    return got >= 0;
  }

  /** Writes the poll items for sockets with work; returns how many. */
  #fillPollSet(now: number): number {
    this.#polled.length = 0;
    this.#events.length = 0;
    for (const socket of this.#sockets) {
      if (socket.closed) {
        if (!socket.waitedOn) socket.destroy();
        continue;
      }
      const events = socket.interest(now);
      if (events !== 0) {
        this.#polled.push(socket);
        this.#events.push(events);
      }
    }
    this.#items = writePollItems(
      this.#items,
      this.#polled.map((socket, index): PollItem => [socket.handle, 0, this.#events[index]!]),
    );
    return this.#polled.length;
  }

  /**
   * The earliest retry time of a blocked send still to come, or 0. One that has
   * passed is polled for POLLOUT; if that is not ready, the descriptor signals when
   * a full peer takes some, so waiting for it again would only spin.
   */
  #nextRetry(now: number): number {
    let next = 0;
    for (const socket of this.#sockets) {
      const at = socket.retryAt;
      if (at > now && (next === 0 || at < next)) next = at;
    }
    return next;
  }

  #dispatch(count: number): void {
    const view = new DataView(this.#items.buffer);
    const now = Date.now();
    for (let index = 0; index < count; index++) {
      const revents = view.getInt16(index * ITEM_SIZE + 14, littleEndian);
      const socket = this.#polled[index]!;
      if (socket.closed) {
        if (!socket.waitedOn) socket.destroy();
      } else if (revents !== 0) socket.service(revents, now);
    }
  }
}
