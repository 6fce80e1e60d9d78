/**
 * A peer's connection to the Router's request socket: requests with replies
 * matched by id (and a timeout), events both ways. Used by the client, brokers and
 * pipeliners alike. Messages sent in the same turn of the event loop leave as one
 * batch (see `splitBatch` in the protocol), and batches from the Router are read
 * message by message: many jobs in flight cost few wake-ups.
 *
 * @module
 */
import { Context, type Socket, SocketClosedError } from "./zmq/mod.ts";
import { TurnBatch } from "./turn_batch.ts";
import { Deadlines } from "./deadlines.ts";
import {
  encodeBatches,
  encodeBody,
  parseFromRouter,
  type PeerEvent,
  ProtocolError,
  type ReplyError,
  type Request,
  type RouterEvent,
  splitBatch,
} from "./protocol/mod.ts";
import { ErrorName, PipelineValidationError } from "./errors.ts";
import type { CurveClientKeys } from "./curve_keys.ts";
import { routerEndpoints } from "./router_endpoints.ts";

/**
 * With several Router endpoints: ZMTP PINGs this often on each connection, ms. The
 * Router's libzmq I/O thread answers them, so a Router busy in JS still answers.
 */
const HEARTBEAT_MS = 1000;
/** A connection with no traffic for this long is dropped (a paused Router), ms. */
const HEARTBEAT_TIMEOUT_MS = 3000;

/** The Router answered a request with an error; `name` says which. */
export class RemoteError extends Error {
  /** The name of the error on the Router's side, e.g. `PipelineNotFoundError`. */
  override name: string;
  /** The Router's error data. */
  readonly data: ReplyError;
  constructor(data: ReplyError) {
    super(data.message);
    this.name = data.name;
    this.data = data;
  }
}

/** No reply came in time. */
export class RequestTimeoutError extends Error {
  override name: string = ErrorName.RequestTimeout;
  constructor(type: string, timeoutMs: number, endpoint: string) {
    super(`No reply to "${type}" from the Router at "${endpoint}" within ${timeoutMs} ms`);
  }
}

/** Options of a {@linkcode RouterLink}. */
export interface RouterLinkOptions {
  /**
   * The Router's request endpoint, e.g. `tcp://127.0.0.1:5555`, or those of every
   * Router of a cluster (a list, or a comma list): the link connects to each and talks
   * to whichever one is bound, the active Router.
   */
  api: string | readonly string[];
  /** Our routing id; brokers and pipeliners use their own id so the Router can address them. */
  routingId?: string;
  /** A context to share; one is made (and closed with the link) otherwise. */
  context?: Context;
  /** Called for each event the Router sends. */
  onEvent?: (event: PeerEvent) => void;
  /** Called for frames that are not a valid message. */
  onProtocolError?: (error: ProtocolError) => void;
  /** Default request timeout, ms. Default 10,000. */
  requestTimeoutMs?: number;
  /**
   * The largest message taken from the Router, in bytes (-1 for no limit); see
   * `SocketOptions.maxMessageSize`. Default 64 MiB.
   */
  maxMessageSize?: number;
  /** For a context made here: its `hotWaitMs` (see `ContextOptions`). */
  hotWaitMs?: number | (() => number);
  /** Connect with CURVE: the Router's public key and ours. Absent: plain ZeroMQ. */
  curve?: CurveClientKeys;
}

type RequestBody = Request extends infer R ? R extends Request ? Omit<R, "id"> : never : never;

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

let counter = 0;

/** A DEALER connected to the Router, with request/reply matching. */
export class RouterLink {
  readonly #socket: Socket;
  readonly #context: Context;
  readonly #ownsContext: boolean;
  readonly #pending = new Map<string, Pending>();
  /** When each pending request times out (one timer for all of them). */
  readonly #deadlines = new Deadlines<string>();
  readonly #options: RouterLinkOptions;
  readonly #endpoints: readonly string[];
  readonly #prefix = `${Date.now().toString(36)}-${(counter++).toString(36)}-`;
  #next = 0;
  #reading: Promise<void>;
  /** Messages sent in one turn leave together, as batches. */
  readonly #outbox = new TurnBatch<Uint8Array>(async (bodies) => {
    await Promise.all(encodeBatches(bodies).map((frames) => this.#socket.send(frames)));
  });

  /**
   * Connects (in the background) to `options.api`.
   *
   * @throws {TypeError} for a bad endpoint in `options.api`.
   */
  constructor(options: RouterLinkOptions) {
    this.#options = options;
    this.#endpoints = routerEndpoints("The Router endpoint list", options.api);
    // Several Routers, one bound: a DEALER round-robins over every pipe it has, and a
    // connect makes a pipe at once, so without IMMEDIATE messages would wait on the pipe
    // of a standby that never binds. Heartbeats drop the pipe of a Router that stopped
    // answering (SIGSTOP, a cut link) so messages go to the one that answers. One Router:
    // nowhere else to go, so its pipe, and what waits on it, survives its restart.
    const several = this.#endpoints.length > 1;
    this.#ownsContext = !options.context;
    this.#context = options.context ?? new Context({ hotWaitMs: options.hotWaitMs });
    this.#socket = this.#context.socket("dealer", {
      routingId: options.routingId,
      linger: 500,
      reconnectInterval: 100,
      reconnectIntervalMax: 1000,
      maxMessageSize: options.maxMessageSize,
      ...(several
        ? {
          immediate: true,
          heartbeatInterval: HEARTBEAT_MS,
          heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
        }
        : {}),
      ...(options.curve
        ? {
          curveServerKey: options.curve.serverKey,
          curvePublicKey: options.curve.publicKey,
          curveSecretKey: options.curve.secretKey,
        }
        : {}),
    });
    for (const endpoint of this.#endpoints) this.#socket.connect(endpoint);
    this.#reading = this.#read();
  }

  /**
   * Sends a request and resolves with the reply's result.
   *
   * @throws {RemoteError} when the Router answers with an error
   *   ({@linkcode PipelineValidationError} for an invalid pipeline).
   * @throws {RequestTimeoutError} when no reply comes in time.
   */
  request<T>(request: RequestBody, timeoutMs?: number): Promise<T> {
    const id = this.#prefix + (this.#next++).toString(36);
    const limit = timeoutMs ?? this.#options.requestTimeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      this.#deadlines.add(id, limit, () => {
        this.#pending.delete(id);
        reject(new RequestTimeoutError(request.type, limit, this.#endpoints.join(",")));
      });
      this.#pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.#outbox.add(encodeBody({ ...request, id })).catch((error) => {
        if (!this.#pending.delete(id)) return;
        this.#deadlines.delete(id);
        reject(error);
      });
    });
  }

  /** Sends an event (no reply). Resolves once queued. */
  send(event: RouterEvent): Promise<void> {
    return this.#outbox.add(encodeBody(event));
  }

  /**
   * With CURVE, connects anew. libzmq never retries a connection the Router refused at
   * its handshake (a key not on its allow-list yet), so a peer asks again itself.
   */
  reconnect(): void {
    if (!this.#options.curve) return;
    for (const endpoint of this.#endpoints) {
      try {
        this.#socket.disconnect(endpoint);
      } catch { /* Not connected: connect below. */ }
      this.#socket.connect(endpoint);
    }
  }

  /** Closes the link; pending requests reject. */
  async close(): Promise<void> {
    this.#socket.close();
    this.#deadlines.clear();
    for (const [id, pending] of this.#pending) {
      pending.reject(new SocketClosedError("The link to the Router is closed"));
      this.#pending.delete(id);
    }
    await this.#reading;
    if (this.#ownsContext) await this.#context.close();
  }

  async #read(): Promise<void> {
    for await (const frames of this.#socket) {
      for (const part of splitBatch(frames)) this.#receive(part);
    }
  }

  #receive(frames: Uint8Array[]): void {
    let message;
    try {
      message = parseFromRouter(frames);
    } catch (error) {
      if (error instanceof ProtocolError) this.#options.onProtocolError?.(error);
      return;
    }
    if (message.type !== "reply") {
      this.#options.onEvent?.(message);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return; // Timed out already.
    this.#pending.delete(message.id);
    this.#deadlines.delete(message.id);
    if (message.ok) {
      pending.resolve(message.result);
    } else if (message.error.name === ErrorName.PipelineValidation) {
      pending.reject(
        new PipelineValidationError(message.error.problems ?? [message.error.message]),
      );
    } else {
      pending.reject(new RemoteError(message.error));
    }
  }
}
