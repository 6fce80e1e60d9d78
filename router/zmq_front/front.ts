/**
 * The Router's ZeroMQ front: the request socket (ROUTER) and the broadcast socket
 * (PUB). It reads what is already waiting, about {@linkcode BATCH} messages, parses
 * each and hands it to the hub inside one hub batch; it sends what the hub queued,
 * packing the messages to a peer that reads batches into as few ZeroMQ messages as
 * it can.
 *
 * @module
 */
import { errorData, ErrorName, toErrorData } from "../../core/errors.ts";
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
import type { Keyring } from "./keyring.ts";
import { PeerAuth, type Refusal } from "./peer_auth.ts";
import { handleMessage } from "./requests.ts";
import { ZapHandler } from "./zap.ts";

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

/** The Router's CURVE side: its secret key, and whom it lets in. */
export interface FrontCurve {
  secretKey: string;
  keyring: Keyring;
}

/** How often the allow-list file is read again, ms. */
const RELOAD_MS = 1000;

/** Where the front binds. */
export interface ZmqFrontOptions {
  api: string;
  broadcast: string;
  log: Logger;
  /** The largest message read, bytes (-1: no cap). Default: the transport's (64 MiB). */
  maxMessageBytes?: number;
  /** CURVE on both sockets, with a ZAP handler; absent: plain ZeroMQ. */
  curve?: FrontCurve;
  /**
   * ZMTP heartbeats on the request socket (interval and timeout, ms): a connection
   * that stopped answering is closed, and frees its routing id for the peer's next.
   */
  heartbeat?: { intervalMs: number; timeoutMs: number };
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
  /** Set with CURVE: who may send what. */
  readonly #auth: PeerAuth | undefined;
  readonly #keyring: Keyring | undefined;
  readonly #zap: ZapHandler | undefined;
  #reload: ReturnType<typeof setInterval> | undefined;
  #loop: Promise<void> | undefined;
  #stopped = false;

  /** Binds the sockets. @throws {ZmqError} when an endpoint cannot be bound. */
  constructor(options: ZmqFrontOptions) {
    this.#log = options.log;
    this.context = new Context(
      options.maxMessageBytes === undefined ? {} : { maxMessageSize: options.maxMessageBytes },
    );
    const curve = options.curve;
    // Before any socket binds: a CURVE server with no ZAP handler lets every key in.
    this.#zap = curve ? new ZapHandler(this.context, curve.keyring, options.log) : undefined;
    this.#keyring = curve?.keyring;
    this.#auth = curve ? new PeerAuth(curve.keyring) : undefined;
    const secure = curve ? { curveServer: true, curveSecretKey: curve.secretKey } : {};
    const heartbeat = options.heartbeat
      ? {
        heartbeatInterval: options.heartbeat.intervalMs,
        heartbeatTimeout: options.heartbeat.timeoutMs,
      }
      : {};
    // No handover: a connection must never take a routing id from the one that holds it
    // (a peer's next connection gets it once the last one closed or stopped answering).
    this.#api = this.context.socket("router", {
      linger: 200,
      routerHandover: false,
      userIdFrame: curve !== undefined,
      ...secure,
      ...heartbeat,
    });
    this.#pub = this.context.socket("pub", { linger: 200, sendHwm: 100_000, ...secure });
    this.apiEndpoint = this.#api.bind(options.api);
    this.broadcastEndpoint = this.#pub.bind(options.broadcast);
  }

  /** Starts reading requests and events into `hub`, and watching the allow-list. */
  start(hub: RouterHub): void {
    this.#loop = this.#run(hub);
    if (this.#keyring?.file !== undefined) {
      this.#reload = setInterval(() => this.#reloadKeys(hub), RELOAD_MS);
    }
  }

  /** Stops the loop and closes the sockets (queued messages get a short linger). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#reload);
    await this.context.close();
    await this.#loop;
    await this.#zap?.done;
  }

  /** Applies a changed allow-list: the peers of keys taken off it are dropped. */
  #reloadKeys(hub: RouterHub): void {
    let removed: string[] | undefined;
    try {
      removed = this.#keyring!.reload();
    } catch (error) {
      this.#log.error("Allow-list not applied, the keys allowed stay as they were: {error}", {
        error: (error as Error).message,
      });
      return;
    }
    if (removed === undefined) return;
    this.#log.info("Allow-list reloaded: {count} keys allowed, {removed} taken off", {
      count: this.#keyring!.size,
      removed: removed.length,
    });
    if (removed.length === 0) return;
    const ids = this.#auth!.forget(new Set(removed));
    hub.batch(() => {
      for (const id of ids) hub.peers.drop(textOf(id), "its key was taken off the allow-list");
    });
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
    // With CURVE, the socket puts the connection's User-Id first.
    const auth = this.#auth;
    const at = auth ? 1 : 0;
    const userId = auth ? String.fromCharCode(...frames[0]!) : "";
    const address = frames[at]!;
    // REQ peers put an empty delimiter frame first; answer them in kind.
    const viaReq = frames.length > at + 2 && frames[at + 1]!.length === 0;
    const messages = splitBatch(frames.slice(at + (viaReq ? 2 : 1)));
    if (messages.length > 1 && !viaReq) this.#learnBatchPeer(address);
    const peer = auth && userId !== "" ? peerKey(address) : "";
    for (const body of messages) {
      let message: Request | RouterEvent;
      try {
        message = parseToRouter(body);
      } catch (error) {
        this.#malformed(hub, address, viaReq, error);
        continue;
      }
      const refusal = auth?.refuse(userId, peer, message);
      if (refusal) this.#refused(hub, address, viaReq, message, refusal);
      else handleMessage(hub, address, viaReq, message);
    }
    return Math.max(1, messages.length);
  }

  /**
   * A message its sender may not send: a request gets an error (within the peer's
   * error budget), an event nothing. A routing id that another key holds now is no
   * longer its owner's connection: that peer is dropped as if lost.
   */
  #refused(
    hub: RouterHub,
    address: Uint8Array,
    viaReq: boolean,
    message: Request | RouterEvent,
    refusal: Refusal,
  ): void {
    if (refusal.stolen !== undefined) {
      hub.peers.drop(textOf(refusal.stolen), "another key holds its routing id now");
    }
    if (!this.#errors.spend(address)) return;
    this.#log.warn("Refused {type} from {peer}: {why}", {
      type: message.type,
      peer: printable(address),
      why: refusal.reason,
    });
    if (!("id" in message)) return;
    const error = errorData(ErrorName.Forbidden, `Refused: ${refusal.reason}`, false);
    hub.reply(address, viaReq, { type: "reply", id: message.id, ok: false, error });
  }

  /** Answers a message that could not be parsed, within the peer's error budget. */
  #malformed(hub: RouterHub, address: Uint8Array, viaReq: boolean, error: unknown): void {
    hub.protocolErrors++;
    // A peer flooding garbage gets a bounded number of answers (and log lines) a second,
    // so it cannot fill the Router's queues or its log.
    if (!this.#errors.spend(address)) return;
    // Name and message only: the Router's stack (its paths, its code) is no peer's business.
    const { name, message, retryable } = toErrorData(error, false);
    const data = { name, message, retryable };
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

/** The text of a routing id kept one character per byte (see `peerKey`). */
function textOf(key: string): string {
  return new TextDecoder().decode(Uint8Array.from(key, (char) => char.charCodeAt(0)));
}

/** A routing id as text for a log line: as is when printable, else hex. */
export function printable(address: Uint8Array): string {
  const text = new TextDecoder().decode(address);
  return /^[\x20-\x7e]+$/.test(text)
    ? text
    : `0x${[...address].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
