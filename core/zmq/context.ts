/**
 * A ZeroMQ context: the sockets one part of a program makes, driven by one poll loop.
 *
 * By default each context has a libzmq context and a poll loop of its own. After
 * {@linkcode shareOneContext}, every context made in the process is a handle on one
 * shared libzmq context with one poll loop (libzmq wants one poll loop per context,
 * on the JS thread): each `new Context()` opens it, each `close()` closes that handle's
 * sockets, and the last close terminates it. In the shared context a connect to a tcp
 * endpoint that one of its sockets bound travels inproc (see `_tcp_aliases.ts`), so
 * daemons sharing a process talk inproc without knowing it.
 *
 * @module
 */
import type { SocketType } from "./constants.ts";
import { SocketClosedError } from "./errors.ts";
import type { Libzmq } from "./loader.ts";
import type { Socket, SocketOptions } from "./socket.ts";
import { Engine } from "./_engine.ts";

/** How a {@linkcode Context} waits for I/O. */
export interface ContextOptions {
  /**
   * After a poll that found work, wait up to this many ms on the JS thread before
   * handing the wait to a helper thread. Saves a thread hop each way (about 40 µs
   * here) when traffic is steady, at the price of holding other JS (timers, Web
   * Worker messages) for at most this long. 0 turns it off. Default 1. A function is
   * asked each time: a process that also waits for other I/O (a broker's worker
   * hosts) can wait hot only while nothing else is due. Contexts sharing the process's
   * loop wait hot for the least any of them allows.
   */
  hotWaitMs?: number | (() => number);
  /**
   * The `maxMessageSize` of sockets made here that do not set their own (bytes, -1 for
   * no limit). Default `DEFAULT_MAX_MESSAGE_SIZE`, 64 MiB.
   */
  maxMessageSize?: number;
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

/** The process's shared engine and the contexts open on it. */
interface Shared {
  engine: Engine;
  members: Set<Context>;
}

let sharing = false;
let shared: Shared | undefined;

/**
 * From now on, every {@linkcode Context} made in this process shares one libzmq
 * context and poll loop, and tcp connects to endpoints bound in it go inproc. Call it
 * before the first context is made, in a program that runs several daemons in one
 * process; contexts made before keep their own. `shareOneContext(false)` goes back to
 * one libzmq context per `Context` for those made later (for tests).
 */
export function shareOneContext(enabled = true): void {
  sharing = enabled;
}

/** Owns sockets and their poll loop. Close it to end the loop and free libzmq. */
export class Context {
  /** The libzmq this context uses. */
  readonly libzmq: Libzmq;
  readonly #engine: Engine;
  readonly #shared: Shared | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #hotWaitMs: number | (() => number);
  readonly #maxMessageSize: number | undefined;
  #closing: Promise<void> | undefined;

  /** Makes a context (or opens the process's shared one), loading libzmq on first use. */
  constructor(options: ContextOptions = {}) {
    this.#hotWaitMs = options.hotWaitMs ?? defaultHotWait();
    this.#maxMessageSize = options.maxMessageSize;
    if (sharing) {
      shared ??= { engine: new Engine(sharedHotWait, true), members: new Set() };
      shared.members.add(this);
      this.#shared = shared;
      this.#engine = shared.engine;
    } else {
      const hotWait = this.#hotWaitMs;
      this.#engine = new Engine(typeof hotWait === "number" ? () => hotWait : hotWait);
    }
    this.libzmq = this.#engine.libzmq;
  }

  /** @internal How long this context allows a hot wait, now. */
  hotWait(): number {
    return typeof this.#hotWaitMs === "number" ? this.#hotWaitMs : this.#hotWaitMs();
  }

  /**
   * Makes a socket of `type` with `options` applied.
   *
   * @throws {ZmqError} when libzmq refuses an option.
   * @throws {SocketClosedError} when the context is closed.
   */
  socket(type: SocketType, options: SocketOptions = {}): Socket {
    if (this.#closing) throw new SocketClosedError("Context is closed");
    const own = options.maxMessageSize !== undefined || this.#maxMessageSize === undefined;
    const socket = this.#engine.socket(
      type,
      own ? options : { ...options, maxMessageSize: this.#maxMessageSize },
    );
    this.#sockets.add(socket);
    return socket;
  }

  /** Sockets still open. */
  get size(): number {
    let open = 0;
    for (const socket of this.#sockets) {
      if (socket.handle === null) this.#sockets.delete(socket);
      else open++;
    }
    return open;
  }

  /**
   * Closes every socket (their pending operations reject). Its own context it then
   * terminates; the shared one only when this was the last handle open on it. Safe to
   * call more than once.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const group = this.#shared;
    if (!group) return await this.#engine.close();
    await this.#engine.closeSockets(this.#sockets);
    this.#sockets.clear();
    group.members.delete(this);
    if (group.members.size > 0) return;
    if (shared === group) shared = undefined;
    await this.#engine.close();
  }
}

/** The shared loop waits hot for the least any open context allows. */
function sharedHotWait(): number {
  let least = Infinity;
  for (const member of shared?.members ?? []) least = Math.min(least, member.hotWait());
  return least === Infinity ? 0 : least;
}
