/**
 * A ZeroMQ context and the one poll loop that drives all of its sockets.
 *
 * The loop first polls on the JS thread with a zero timeout, so a busy loop pays
 * no thread hop; only when nothing is ready does it run a blocking `zmq_poll` on
 * a helper thread, with an inproc PAIR "waker" in the set so that new work from
 * JS can interrupt it. No socket in that set is touched until the poll returns.
 *
 * @module
 */
import { DONTWAIT, POLLIN, SOCKET_TYPES } from "./constants.ts";
import type { SocketType } from "./constants.ts";
import { SocketClosedError, ZmqError } from "./errors.ts";
import { type Libzmq, loadLibzmq } from "./loader.ts";
import { Socket, type SocketHost, type SocketOptions } from "./socket.ts";

const ITEM_SIZE = 16; // sizeof(zmq_pollitem_t) on 64-bit POSIX: ptr, int fd, short, short
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let wakerCount = 0;
/**
 * Microtask turns given to JS before a wait, so handlers of what was just received
 * can queue their sends first (an `async` handler needs a few turns per await).
 * Measured here: cheaper than a macrotask yield, and as good for in-process echo.
 */
const YIELDS = 16;

/** How a {@linkcode Context} waits for I/O. */
export interface ContextOptions {
  /**
   * After a poll that found work, wait up to this many ms on the JS thread before
   * handing the wait to a helper thread. Saves a thread hop each way (about 40 µs
   * here) when traffic is steady, at the price of holding other JS (timers, Web
   * Worker messages) for at most this long. 0 turns it off. Default 1. A function is
   * asked each time: a process that also waits for other I/O (a broker's worker
   * hosts) can wait hot only while nothing else is due.
   */
  hotWaitMs?: number | (() => number);
}

/** `PIPELININ_HOT_WAIT_MS` when set and readable (a tuning knob for benchmarks), else 1. */
function defaultHotWait(): number {
  try {
    const value = Number(Deno.env.get("PIPELININ_HOT_WAIT_MS") ?? 1);
    return Number.isFinite(value) && value >= 0 ? value : 1;
  } catch {
    return 1; // No env permission.
  }
}

/** Owns sockets and their poll loop. Close it to end the loop and free libzmq. */
export class Context {
  /** The libzmq this context uses. */
  readonly libzmq: Libzmq;
  #lib: Libzmq["symbols"];
  #handle: Deno.PointerValue;
  #sockets = new Set<Socket>();
  #wakerIn: Deno.PointerValue;
  #wakerOut: Deno.PointerValue;
  #wakeSent = false;
  #polling = false;
  #running = false;
  #closing: Promise<void> | undefined;
  #items = new Uint8Array(ITEM_SIZE * 16);
  #polled: Socket[] = [];
  #events: number[] = [];
  #wakeMsg = new Uint8Array(64);
  #host: SocketHost;
  #hotWaitMs: number | (() => number);
  #hot = false;

  /** Makes a context, loading libzmq on first use. */
  constructor(options: ContextOptions = {}) {
    this.#hotWaitMs = options.hotWaitMs ?? defaultHotWait();
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
    this.#host = {
      lib: this.#lib,
      kick: () => this.#kick(),
      release: (socket) => this.#sockets.delete(socket),
      error: (operation) => this.#error(operation),
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
    const socket = new Socket(this.#host, handle, type);
    this.#sockets.add(socket);
    try {
      socket.configure(options);
    } catch (error) {
      socket.close();
      throw error;
    }
    return socket;
  }

  /** Sockets still open. */
  get size(): number {
    return this.#sockets.size;
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
    // Sockets in a poll in flight are closed by the loop once it returns.
    while (this.#polling || this.#running) {
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

  #kick(): void {
    if (this.#polling) {
      if (!this.#wakeSent) {
        this.#wakeSent = true;
        this.#lib.zmq_send(this.#wakerOut, new Uint8Array(1), 1n, DONTWAIT);
      }
    } else if (!this.#running) {
      this.#running = true;
      queueMicrotask(() => this.#loop());
    }
  }

  async #loop(): Promise<void> {
    let yielded = false;
    try {
      while (true) {
        await null; // Let resolved receives run their handlers.
        const count = this.#fillPollSet(Date.now());
        if (count === 0) {
          if (this.#nextRetry() === 0) return; // Nothing to wait for: park until a kick.
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
        const hotWaitMs = ready === 0 && this.#hot
          ? (typeof this.#hotWaitMs === "number" ? this.#hotWaitMs : this.#hotWaitMs())
          : 0;
        if (hotWaitMs > 0) ready = this.#lib.zmq_poll(this.#items, count, hotWaitMs);
        if (ready === 0) ready = await this.#blockingPoll(count);
        this.#hot = ready > 0;
        if (ready < 0) continue; // EINTR or ETERM: recompute the set.
        this.#dispatch(count);
      }
    } finally {
      this.#running = false;
    }
  }

  async #blockingPoll(count: number): Promise<number> {
    const view = new DataView(this.#items.buffer);
    const offset = count * ITEM_SIZE;
    view.setBigUint64(offset, BigInt(Deno.UnsafePointer.value(this.#wakerIn)), littleEndian);
    view.setInt32(offset + 8, 0, littleEndian);
    view.setInt16(offset + 12, POLLIN, littleEndian);
    view.setInt16(offset + 14, 0, littleEndian);
    const retry = this.#nextRetry();
    const timeout = retry === 0 ? -1 : Math.max(0, retry - Date.now());
    for (const socket of this.#polled) socket.polled = true;
    this.#polling = true;
    let ready: number;
    try {
      ready = await this.#lib.zmq_poll_blocking(this.#items, count + 1, timeout);
    } finally {
      this.#polling = false;
      for (const socket of this.#polled) socket.polled = false;
    }
    if (this.#wakeSent) {
      while (this.#drainWaker()) { /* until EAGAIN */ }
      this.#wakeSent = false;
    }
    return ready;
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
        socket.destroy();
        continue;
      }
      const events = socket.interest(now);
      if (events !== 0) {
        this.#polled.push(socket);
        this.#events.push(events);
      }
    }
    const needed = (this.#polled.length + 1) * ITEM_SIZE;
    if (this.#items.length < needed) this.#items = new Uint8Array(needed * 2);
    const view = new DataView(this.#items.buffer);
    this.#polled.forEach((socket, index) => {
      const offset = index * ITEM_SIZE;
      view.setBigUint64(offset, BigInt(Deno.UnsafePointer.value(socket.handle)), littleEndian);
      view.setInt32(offset + 8, 0, littleEndian);
      view.setInt16(offset + 12, this.#events[index]!, littleEndian);
      view.setInt16(offset + 14, 0, littleEndian);
    });
    return this.#polled.length;
  }

  /** The earliest retry time of a blocked send, or 0. */
  #nextRetry(): number {
    let next = 0;
    for (const socket of this.#sockets) {
      const at = socket.retryAt;
      if (at !== 0 && (next === 0 || at < next)) next = at;
    }
    return next;
  }

  #dispatch(count: number): void {
    const view = new DataView(this.#items.buffer);
    const now = Date.now();
    for (let index = 0; index < count; index++) {
      const revents = view.getInt16(index * ITEM_SIZE + 14, littleEndian);
      const socket = this.#polled[index]!;
      if (socket.closed) socket.destroy();
      else if (revents !== 0) socket.service(revents, now);
    }
  }
}
