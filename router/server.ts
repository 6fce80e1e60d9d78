/**
 * The Router's ZeroMQ side: the request socket (ROUTER) and the broadcast socket
 * (PUB). Messages are handled in batches: everything already waiting is handled,
 * the store commits once, and only then do replies and broadcasts go out. Work for
 * brokers and pipeliners goes out just before the commit, so it is under way while
 * the commit writes: it acknowledges nothing to anyone outside, and should the
 * Router die before the commit, what it was about is redone from the store (a job
 * may then have run for a submit that was never answered: at-least-once).
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import {
  type ClusterConfig,
  encodeBatches,
  encodeBody,
  encodeBroadcast,
  parseToRouter,
  type PeerEvent,
  type PipelineRecord,
  ProtocolError,
  type Reply,
  type ReplyError,
  type Request,
  type RouterEvent,
  splitBatch,
  type WaitRequest,
} from "../core/protocol/mod.ts";
import { PipelineValidationError, toErrorData } from "../core/errors.ts";
import { Context, type Socket, SocketClosedError } from "../core/zmq/mod.ts";
import { PipelineService } from "./pipelines.ts";
import type { Registry } from "./registry.ts";
import type { PipelineStore } from "./store.ts";
import { ChangeFeed } from "./change_feed.ts";
import { Deadlines } from "../core/deadlines.ts";
import { timerDelay } from "../core/timers.ts";

const decoder = new TextDecoder();

/** A routing id as a map key, one character per byte (binary ids stay distinct). */
function peerKey(address: Uint8Array): string {
  return String.fromCharCode(...address);
}

/** A message queued in a batch: to one peer (its JSON frame), or a broadcast. */
type Outgoing =
  | { address: Uint8Array; viaReq: boolean; body: Uint8Array }
  | { frames: Uint8Array[] };
const EMPTY = new Uint8Array(0);
/**
 * Messages handled per batch, about: the batch ends after the ZeroMQ message that
 * reaches it. Small enough that a flood of submits (a client sends up to 256 in one
 * ZeroMQ message) does not keep brokers idle while all of it is validated and stored:
 * each batch's jobs go out before the next batch is read. Timers and HTTP get their
 * turn between batches too.
 */
const BATCH = 256;
/** Error replies (and log lines) per peer per second for malformed messages. */
const ERROR_REPLIES = 100;
/** The most jobs per slot a broker may ask to queue ahead. */
const MAX_PREFETCH = 64;

/** What the server needs. */
export interface ServerDeps {
  api: string;
  broadcast: string;
  store: PipelineStore;
  registry: Registry;
  log: Logger;
  heartbeatMs: number;
  peerTimeoutMs: number;
  /** Built once the server exists (it needs the outbox). */
  service: (outbox: ZmqServer) => PipelineService;
}

/** The Router's sockets and message loop. */
export class ZmqServer {
  readonly context = new Context();
  readonly #api: Socket;
  readonly #pub: Socket;
  readonly #deps: ServerDeps;
  readonly #log: Logger;
  /** Messages to send once the store has committed. */
  readonly #outgoing: Outgoing[] = [];
  /** Events to brokers and pipeliners, sent before the commit. */
  readonly #work: Outgoing[] = [];
  /** Peers (by routing id) that sent a batch, so they read batches: they get them too. */
  readonly #batchPeers = new Set<string>();
  readonly apiEndpoint: string;
  readonly broadcastEndpoint: string;
  readonly service: PipelineService;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #loop: Promise<void> | undefined;
  #stopped = false;
  /** Malformed messages seen, for metrics. */
  protocolErrors = 0;
  /** Committed pipeline changes, for live views. */
  readonly changes = new ChangeFeed();

  constructor(deps: ServerDeps) {
    this.#deps = deps;
    this.#log = deps.log;
    this.#api = this.context.socket("router", { linger: 200, routerHandover: true });
    this.#pub = this.context.socket("pub", { linger: 200, sendHwm: 100_000 });
    this.apiEndpoint = this.#api.bind(deps.api);
    this.broadcastEndpoint = this.#pub.bind(deps.broadcast);
    this.service = deps.service(this);
  }

  /** Starts the message loop and the liveness checks. */
  start(): void {
    this.#loop = this.#run();
    const check = setInterval(() => this.batch(() => this.#checkPeers()), this.#deps.heartbeatMs);
    this.#timers.add(check);
  }

  /** Runs `task` later as a batch of its own (store commit, then sends). */
  later(ms: number, task: () => void): void {
    // A delay past 2^31-1 ms would fire at once (a pipeline's long deadline): wait in steps.
    const step = timerDelay(ms);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (ms > step) this.later(ms - step, task);
      else this.batch(task);
    }, step);
    this.#timers.add(timer);
  }

  /** Runs `task`, dispatches ready jobs, commits, then sends what was queued. */
  batch(task: () => void): void {
    if (this.#stopped) return;
    try {
      task();
    } catch (error) {
      this.#log.error("Task failed: {error}", { error: toErrorData(error).message });
    }
    this.#afterBatch();
  }

  /**
   * Runs a request from another front (HTTP) as a batch of its own and returns its
   * result once the store has committed; its error is rethrown after the commit.
   */
  execute<T>(task: () => T): T {
    let result: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      result = { ok: true, value: task() };
    } catch (error) {
      result = { ok: false, error };
    }
    this.#afterBatch();
    if (!result.ok) throw result.error;
    return result.value;
  }

  /** Queues an event to a broker or pipeliner (sent at the end of the batch, before its commit). */
  toPeer(address: Uint8Array, event: PeerEvent): void {
    this.#work.push({ address, viaReq: false, body: encodeBody(event) });
  }

  /** Queues the end's broadcast and the answers to `wait` requests (sent after commit). */
  pipelineEnded(record: PipelineRecord): void {
    this.#outgoing.push({
      frames: encodeBroadcast({
        type: "pipeline-ended",
        pipelineId: record.id,
        status: record.status,
      }),
    });
    const waiting = this.#waiters.get(record.id);
    if (waiting) {
      this.#waiters.delete(record.id);
      for (const answer of waiting) answer(record);
    }
  }

  readonly #waiters = new Map<string, Set<(record: PipelineRecord) => void>>();
  /** When each waiter gives up (one timer for all of them). */
  readonly #waitDeadlines = new Deadlines<(record: PipelineRecord) => void>();

  /** Answers now if the pipeline ended, else when it ends or the wait times out. */
  #wait(request: WaitRequest, reply: (message: Reply) => void): void {
    const record = this.service.get(request.pipelineId); // Throws PipelineNotFoundError.
    if (PipelineService.ended(record.status)) {
      return reply({ type: "reply", id: request.id, ok: true, result: record });
    }
    const timeoutMs = Math.min(Math.max(Number(request.timeoutMs ?? 5000) || 0, 0), 60_000);
    const waiting = this.#waiters.get(request.pipelineId) ?? new Set();
    this.#waiters.set(request.pipelineId, waiting);
    const answer = (result: PipelineRecord) => {
      this.#waitDeadlines.delete(answer);
      reply({ type: "reply", id: request.id, ok: true, result });
    };
    this.#waitDeadlines.add(answer, timeoutMs, () => {
      waiting.delete(answer);
      if (waiting.size === 0 && this.#waiters.get(request.pipelineId) === waiting) {
        this.#waiters.delete(request.pipelineId);
      }
      this.batch(() =>
        reply({
          type: "reply",
          id: request.id,
          ok: true,
          result: this.service.get(request.pipelineId),
        })
      );
    });
    waiting.add(answer);
  }

  /** The configuration handed to peers. */
  get clusterConfig(): ClusterConfig {
    return { heartbeatMs: this.#deps.heartbeatMs, broadcast: this.broadcastEndpoint };
  }

  /** Stops the loop and closes the sockets (queued messages get a short linger). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#waitDeadlines.clear();
    await this.context.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
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
      for (let n = 0; frames;) {
        n += this.#handle(frames);
        frames = n < BATCH ? this.#api.tryReceive() : undefined;
      }
      this.#afterBatch();
    }
  }

  #afterBatch(): void {
    try {
      this.service.dispatch();
      this.#sendAll(this.#work.splice(0));
      this.#deps.store.commit();
    } catch (error) {
      this.#log.fatal("Store commit failed: {error}", { error: toErrorData(error).message });
      throw error;
    }
    // Answers first: live views (the dashboard's SSE) can wait for them, the callers not.
    this.#sendAll(this.#outgoing.splice(0));
    this.changes.publish(this.#deps.store.takeTouched());
  }

  /** Sends messages; a peer that reads batches gets its own in as few as can be. */
  #sendAll(messages: Outgoing[]): void {
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

  #send(socket: Socket, frames: Uint8Array[]): void {
    socket.send(frames).catch((error) => {
      if (error instanceof SocketClosedError) return;
      // EHOSTUNREACH: the peer is gone; liveness checks will requeue its work.
      this.#log.warn("Could not send to a peer: {error}", { error: toErrorData(error).message });
    });
  }

  /** Handles one ZeroMQ message; returns how many messages it held. */
  #handle(frames: Uint8Array[]): number {
    const address = frames[0]!;
    // REQ peers put an empty delimiter frame first; answer them in kind.
    const viaReq = frames.length > 2 && frames[1]!.length === 0;
    const messages = splitBatch(frames.slice(viaReq ? 2 : 1));
    if (messages.length > 1 && !viaReq) this.#learnBatchPeer(address);
    for (const body of messages) this.#handleOne(address, viaReq, body);
    return Math.max(1, messages.length);
  }

  #learnBatchPeer(address: Uint8Array): void {
    // Bounded: a flood of one-off peers must not grow it without end.
    if (this.#batchPeers.size >= 100_000) this.#batchPeers.clear();
    this.#batchPeers.add(peerKey(address));
  }

  #handleOne(address: Uint8Array, viaReq: boolean, body: Uint8Array[]): void {
    const reply = (message: Reply) => {
      this.#outgoing.push({ address, viaReq, body: encodeBody(message) });
    };
    let message: Request | RouterEvent;
    try {
      message = parseToRouter(body);
    } catch (error) {
      this.protocolErrors++;
      // A peer flooding garbage gets at most ERROR_REPLIES answers (and log lines) a second,
      // so it cannot fill the Router's queues or its log.
      if (!this.#errorBudget(address)) return;
      const data = toErrorData(error, false);
      this.#log.warn("Malformed message from {peer}: {error}", {
        peer: printable(address),
        error: data.message,
      });
      if (error instanceof ProtocolError && error.requestId !== undefined) {
        reply({ type: "reply", id: error.requestId, ok: false, error: data });
      } else {
        this.toPeer(address, { type: "error", error: data });
      }
      return;
    }
    if ("id" in message) {
      try {
        if (message.type === "wait") return this.#wait(message, reply);
        if (message.type === "submit" && message.waitMs !== undefined) {
          const { pipelineId } = this.service.submit(message.pipeline, message.idempotencyKey);
          return this.#wait(
            { ...message, type: "wait", pipelineId, timeoutMs: message.waitMs },
            reply,
          );
        }
        reply({ type: "reply", id: message.id, ok: true, result: this.#request(message, address) });
      } catch (error) {
        reply({ type: "reply", id: message.id, ok: false, error: replyError(error) });
      }
      return;
    }
    this.#event(message, address);
  }

  readonly #errorReplies = new Map<string, number>();
  #errorWindow = 0;

  #errorBudget(address: Uint8Array): boolean {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#errorWindow) {
      this.#errorWindow = second;
      this.#errorReplies.clear();
    }
    const key = printable(address);
    const used = (this.#errorReplies.get(key) ?? 0) + 1;
    this.#errorReplies.set(key, used);
    return used <= ERROR_REPLIES;
  }

  #request(request: Request, address: Uint8Array): unknown {
    const { registry, service } = { registry: this.#deps.registry, service: this.service };
    switch (request.type) {
      case "submit":
        return service.submit(request.pipeline, request.idempotencyKey);
      case "status":
        return service.get(request.pipelineId);
      case "wait":
        throw new ProtocolError("A wait request is answered by #wait");
      case "cancel":
        return service.cancel(request.pipelineId);
      case "get-configuration":
        return this.clusterConfig;
      case "list-functions":
        return { functions: registry.functions() };
      case "broker-hello": {
        const id = decoder.decode(address);
        const previous = registry.brokers.get(id);
        if (previous?.of !== undefined && previous.pid === Number(request.broker.pid)) {
          // A worker host saying hello again (its first went unanswered in time): it
          // still runs what it took, so nothing is requeued.
          previous.functions = new Map(request.functions.map((f) => [f.name, f]));
          previous.lastSeen = Date.now();
          return this.clusterConfig;
        }
        // A host started again under the same id: what the old one held never began
        // (its broker reports the job that took it down, when that comes first).
        if (previous?.of !== undefined) service.hostLost(previous);
        else if (previous) service.brokerGone(previous);
        const now = Date.now();
        const slots = Math.max(0, Math.floor(Number(request.broker.slots)) || 0);
        const prefetch = Math.min(
          Math.max(0, Math.floor(Number(request.broker.prefetch)) || 0),
          MAX_PREFETCH,
        );
        registry.addBroker({
          id,
          address,
          host: String(request.broker.host),
          pid: Number(request.broker.pid),
          ...(typeof request.broker.of === "string" ? { of: request.broker.of } : {}),
          slots,
          prefetch,
          lastSeen: now,
          since: now,
        }, request.functions);
        if (typeof request.broker.of === "string") {
          this.#log.info("Worker host {broker} of broker {of} joined from {host}", {
            broker: id,
            of: request.broker.of,
            host: request.broker.host,
          });
        } else {
          this.#log.info(
            "Broker {broker} joined from {host} with {slots} slots and {count} functions",
            {
              broker: id,
              host: request.broker.host,
              slots: request.broker.slots,
              count: request.functions.length,
            },
          );
        }
        return this.clusterConfig;
      }
      case "pipeliner-hello": {
        const id = decoder.decode(address);
        const previous = registry.pipeliners.get(id);
        if (previous) service.pipelinerGone(previous);
        const now = Date.now();
        registry.addPipeliner({
          id,
          address,
          host: String(request.pipeliner.host),
          pid: Number(request.pipeliner.pid),
          lastSeen: now,
          since: now,
        });
        this.#log.info("Pipeliner {pipeliner} joined from {host}", {
          pipeliner: id,
          host: request.pipeliner.host,
        });
        // Assign after the hello reply is queued, so it arrives first.
        queueMicrotask(() =>
          this.batch(() => service.pipelinerJoined(registry.pipeliners.get(id)!))
        );
        return this.clusterConfig;
      }
      default:
        return assertNever(request);
    }
  }

  #event(event: RouterEvent, address: Uint8Array): void {
    const id = decoder.decode(address);
    const broker = this.#deps.registry.brokers.get(id);
    const pipeliner = this.#deps.registry.pipeliners.get(id);
    const now = Date.now();
    if (broker) broker.lastSeen = now;
    if (pipeliner) pipeliner.lastSeen = now;
    const unknown = () => this.toPeer(address, { type: "hello-again" });
    switch (event.type) {
      case "broker-status":
        if (broker) broker.load = event.load;
        else unknown();
        return;
      case "broker-functions":
        if (broker) broker.functions = new Map(event.functions.map((f) => [f.name, f]));
        else unknown();
        return;
      case "job-done":
        if (broker) return this.service.jobDone(broker, event);
        unknown();
        // A broker counted as gone: its jobs run elsewhere, so what it started by itself
        // after this one is stopped.
        if (event.followed) {
          this.toPeer(address, {
            type: "job-cancel",
            pipelineId: event.pipelineId,
            jobId: event.followed.jobId,
            attempt: event.followed.attempt,
          });
        }
        return;
      case "goodbye":
        // A worker host leaves having reported every job it ran: the rest never began.
        if (broker?.of !== undefined) this.service.hostLost(broker);
        else if (broker) this.service.brokerGone(broker);
        if (pipeliner) this.service.pipelinerGone(pipeliner);
        return;
      case "host-lost": {
        // Only a host's own broker can say it died, and only of that process (a host
        // started again may have joined under the same id already).
        const host = this.#deps.registry.brokers.get(event.host);
        if (broker && host?.of === broker.id && host.pid === event.pid) {
          this.service.hostLost(host, event);
        } else if (!broker) unknown();
        return;
      }
      case "pipeliner-status":
        if (!pipeliner) unknown();
        return;
      case "job-request":
        if (pipeliner) this.service.jobRequest(pipeliner, event);
        else unknown();
        return;
      case "pipeline-finish":
        if (pipeliner) this.service.pipelineFinish(pipeliner, event);
        else unknown();
        return;
      default:
        return assertNever(event);
    }
  }

  #checkPeers(): void {
    const silent = this.#deps.registry.silentSince(Date.now() - this.#deps.peerTimeoutMs);
    for (const broker of silent.brokers) {
      this.#log.warn("Broker {broker} is silent: declaring it dead", { broker: broker.id });
      this.service.brokerGone(broker);
    }
    for (const pipeliner of silent.pipeliners) {
      this.#log.warn("Pipeliner {pipeliner} is silent: declaring it dead", {
        pipeliner: pipeliner.id,
      });
      this.service.pipelinerGone(pipeliner);
    }
  }
}

function replyError(error: unknown): ReplyError {
  const data: ReplyError = toErrorData(error, false);
  delete data.stack;
  if (error instanceof PipelineValidationError) data.problems = [...error.problems];
  return data;
}

function printable(address: Uint8Array): string {
  const text = decoder.decode(address);
  return /^[\x20-\x7e]+$/.test(text)
    ? text
    : `0x${[...address].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function assertNever(value: never): never {
  throw new ProtocolError(`Unhandled message ${JSON.stringify(value)}`);
}
