/**
 * The Router's ZeroMQ front: the request socket (ROUTER) and the broadcast socket
 * (PUB). It reads what is already waiting, about {@linkcode BATCH} messages, parses
 * each and hands it to the hub inside one hub batch; it sends what the hub queued,
 * packing the messages to a peer that reads batches into as few ZeroMQ messages as
 * it can.
 *
 * @module
 */
import { toErrorData } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import {
  encodeBatches,
  parseToRouter,
  ProtocolError,
  type Request,
  type RouterEvent,
  splitBatch,
} from "../../core/protocol/mod.ts";
import { Context, type Socket, SocketClosedError } from "../../core/zmq/mod.ts";
import type { Outgoing, PeerLink, RouterHub } from "../hub/hub.ts";
import { ErrorBudget } from "./error_budget.ts";
import { handleMessage } from "./requests.ts";

/** A routing id as a map key, one character per byte (binary ids stay distinct). */
function peerKey(address: Uint8Array): string {
  return String.fromCharCode(...address);
}

const EMPTY = new Uint8Array(0);
/**
 * Messages handled per batch, about: the batch ends after the ZeroMQ message that
 * reaches it. Small enough that a flood of submits (a client sends up to 256 in one
 * ZeroMQ message) does not keep brokers idle while all of it is validated and stored:
 * each batch's jobs go out before the next batch is read. Timers and HTTP get their
 * turn between batches too.
 */
const BATCH = 256;

/** Where the front binds. */
export interface ZmqFrontOptions {
  api: string;
  broadcast: string;
  log: Logger;
  /** The largest message read, bytes (-1: no cap). Default: the transport's (64 MiB). */
  maxMessageBytes?: number;
}

/** The Router's sockets and message loop. */
export class ZmqFront implements PeerLink {
  readonly context: Context;
  readonly apiEndpoint: string;
  readonly broadcastEndpoint: string;
  readonly #api: Socket;
  readonly #pub: Socket;
  readonly #log: Logger;
  readonly #errors = new ErrorBudget();
  /** Peers (by routing id) that sent a batch, so they read batches: they get them too. */
  readonly #batchPeers = new Set<string>();
  #loop: Promise<void> | undefined;
  #stopped = false;

  /** Binds the sockets. @throws {ZmqError} when an endpoint cannot be bound. */
  constructor(options: ZmqFrontOptions) {
    this.#log = options.log;
    this.context = new Context(
      options.maxMessageBytes === undefined ? {} : { maxMessageSize: options.maxMessageBytes },
    );
    this.#api = this.context.socket("router", { linger: 200, routerHandover: true });
    this.#pub = this.context.socket("pub", { linger: 200, sendHwm: 100_000 });
    this.apiEndpoint = this.#api.bind(options.api);
    this.broadcastEndpoint = this.#pub.bind(options.broadcast);
  }

  /** Starts reading requests and events into `hub`. */
  start(hub: RouterHub): void {
    this.#loop = this.#run(hub);
  }

  /** Stops the loop and closes the sockets (queued messages get a short linger). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.context.close();
    await this.#loop;
  }

  /** Sends messages; a peer that reads batches gets its own in as few as can be. */
  send(messages: Outgoing[]): void {
    const batches = new Map<string, { address: Uint8Array; bodies: Uint8Array[] }>();
    for (const message of messages) {
      if ("frames" in message) {
        this.#send(this.#pub, message.frames);
        continue;
      }
      const key = message.viaReq ? "" : peerKey(message.address);
      if (!key || !this.#batchPeers.has(key)) {
        const head = message.viaReq ? [message.address, EMPTY] : [message.address];
        this.#send(this.#api, [...head, ...encodeBatches([message.body])[0]!]);
        continue;
      }
      const batch = batches.get(key) ?? { address: message.address, bodies: [] };
      batch.bodies.push(message.body);
      batches.set(key, batch);
    }
    for (const { address, bodies } of batches.values()) {
      for (const frames of encodeBatches(bodies)) this.#send(this.#api, [address, ...frames]);
    }
  }

  async #run(hub: RouterHub): Promise<void> {
    while (!this.#stopped) {
      let frames: Uint8Array[] | undefined;
      try {
        frames = await this.#api.receive();
      } catch (error) {
        if (error instanceof SocketClosedError) return;
        this.#log.error("Receive failed: {error}", { error: toErrorData(error).message });
        continue;
      }
      // About BATCH messages, then commit and send; the rest wait in the socket for the next round.
      let first: Uint8Array[] | undefined = frames;
      hub.batch(() => {
        for (let n = 0; first;) {
          n += this.#handle(hub, first);
          first = n < BATCH ? this.#api.tryReceive() : undefined;
        }
      });
    }
  }

  #send(socket: Socket, frames: Uint8Array[]): void {
    socket.send(frames).catch((error) => {
      if (error instanceof SocketClosedError) return;
      // EHOSTUNREACH: the peer is gone; liveness checks will requeue its work.
      this.#log.warn("Could not send to a peer: {error}", { error: toErrorData(error).message });
    });
  }

  /** Handles one ZeroMQ message; returns how many messages it held. */
  #handle(hub: RouterHub, frames: Uint8Array[]): number {
    const address = frames[0]!;
    // REQ peers put an empty delimiter frame first; answer them in kind.
    const viaReq = frames.length > 2 && frames[1]!.length === 0;
    const messages = splitBatch(frames.slice(viaReq ? 2 : 1));
    if (messages.length > 1 && !viaReq) this.#learnBatchPeer(address);
    for (const body of messages) {
      let message: Request | RouterEvent;
      try {
        message = parseToRouter(body);
      } catch (error) {
        this.#malformed(hub, address, viaReq, error);
        continue;
      }
      handleMessage(hub, address, viaReq, message);
    }
    return Math.max(1, messages.length);
  }

  /** Answers a message that could not be parsed, within the peer's error budget. */
  #malformed(hub: RouterHub, address: Uint8Array, viaReq: boolean, error: unknown): void {
    hub.protocolErrors++;
    // A peer flooding garbage gets a bounded number of answers (and log lines) a second,
    // so it cannot fill the Router's queues or its log.
    if (!this.#errors.spend(address)) return;
    const data = toErrorData(error, false);
    this.#log.warn("Malformed message from {peer}: {error}", {
      peer: printable(address),
      error: data.message,
    });
    if (error instanceof ProtocolError && error.requestId !== undefined) {
      hub.reply(address, viaReq, { type: "reply", id: error.requestId, ok: false, error: data });
    } else {
      hub.toPeer(address, { type: "error", error: data });
    }
  }

  #learnBatchPeer(address: Uint8Array): void {
    // Bounded: a flood of one-off peers must not grow it without end.
    if (this.#batchPeers.size >= 100_000) this.#batchPeers.clear();
    this.#batchPeers.add(peerKey(address));
  }
}

/** A routing id as text for a log line: as is when printable, else hex. */
export function printable(address: Uint8Array): string {
  const text = new TextDecoder().decode(address);
  return /^[\x20-\x7e]+$/.test(text)
    ? text
    : `0x${[...address].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
