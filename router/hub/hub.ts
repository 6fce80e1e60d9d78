/**
 * The Router's hub: the store, the pipeline service, the registry of peers, the
 * timers and the waiters, behind one batch/commit boundary that every front uses.
 * A batch runs a task (a front's requests, a timer), dispatches the jobs that became
 * ready, commits the store once, and only then sends what was queued: nothing is
 * acknowledged before its commit. Work for brokers and pipeliners goes out just
 * before the commit, so it is under way while the commit writes: it acknowledges
 * nothing to anyone outside, and should the Router die before the commit, what it
 * was about is redone from the store (a job may then have run for a submit that was
 * never answered: at-least-once). With a {@linkcode CommitMirror} (the PostgreSQL
 * store), what a batch acknowledges waits for the mirror's commit too, and nothing is
 * sent once the Router may no longer act.
 *
 * @module
 */
import { NotActiveError, toErrorData } from "../../core/errors.ts";
import { timerDelay } from "../../core/timers.ts";
import type { Logger } from "../../core/log.ts";
import {
  type ClusterConfig,
  encodeBody,
  encodeBroadcast,
  type PeerEvent,
  type PipelineRecord,
  type Reply,
} from "../../core/protocol/mod.ts";
import { ChangeFeed } from "./change_feed.ts";
import { Peers, type ShippedSource } from "./peers.ts";
import { type Outbox, PipelineService, type ServiceOptions } from "./pipelines/service.ts";
import type { Registry } from "./registry.ts";
import { Schedules } from "./schedules/schedules.ts";
import type { PipelineStore } from "./store.ts";
import { Waiters } from "./waiters.ts";
import type { Tracing } from "../../core/tracing/mod.ts";

/**
 * A message for a peer, encoded when it was queued (a value changed later in the
 * batch does not leak into it): to one peer, framed as the front that received from
 * it wants (`viaReq`: a REQ peer's empty delimiter first), or a broadcast.
 */
export type Outgoing =
  | { readonly address: Uint8Array; readonly viaReq: boolean; readonly body: Uint8Array }
  | { readonly frames: Uint8Array[] };

/** Where the hub's messages leave the Router: the ZeroMQ front implements it. */
export interface PeerLink {
  /** Sends the messages in order (a front may pack those to one peer together). */
  send(messages: Outgoing[]): void;
}

/**
 * Where the store's commits are made durable beyond the Router (the PostgreSQL
 * mirror), and whether the Router may still act. Absent: the SQLite commit is the
 * durable one, and the hub waits for nothing more.
 */
export interface CommitMirror {
  /**
   * Called after each store commit: resolves once what it committed (and every
   * commit before) is durable; undefined when there is nothing to wait for.
   */
  committed(): Promise<void> | undefined;
  /** Whether the Router may still send anything (it holds its lease); checked first. */
  mayAct(): boolean;
  /** How the mirror is doing, for `/metrics`. */
  stats(): MirrorStats;
}

/** A mirror's counters and lag, read at scrape time. */
export interface MirrorStats {
  /** Transactions committed. */
  commits: number;
  /** Attempts that failed or stalled, and were sent again. */
  retries: number;
  /** Clients given up on after a call got no answer in time. */
  clientsReplaced: number;
  /** How long the oldest commit not yet mirrored has waited, ms (0: none waits). */
  lagMs: number;
}

/** What the hub needs. */
export interface HubDeps {
  store: PipelineStore;
  registry: Registry;
  log: Logger;
  link: PeerLink;
  /** How often peers report, and how often their liveness is checked, ms. */
  heartbeatMs: number;
  /** A peer silent this long is declared dead, ms. */
  peerTimeoutMs: number;
  /** The broadcast endpoint peers subscribe to (from the front that bound it). */
  broadcast: string;
  options: ServiceOptions;
  /** The functions the Router ships to brokers, when it has a folder of them. */
  shipped?: ShippedSource;
  /** Spans of the pipelines, with tracing on. */
  tracing?: Tracing;
  /** The PostgreSQL mirror, when the store has one. */
  mirror?: CommitMirror;
}

/** The Router's state and its one batch/commit boundary. */
export class RouterHub implements Outbox {
  readonly store: PipelineStore;
  readonly registry: Registry;
  readonly service: PipelineService;
  readonly peers: Peers;
  readonly waiters: Waiters;
  /** Cron schedules, their timer started and stopped with the hub. */
  readonly schedules: Schedules;
  /** Committed pipeline changes, for live views. */
  readonly changes = new ChangeFeed();
  /** Pipelines whose jobs' log lines grew or that changed, once committed (log streams). */
  readonly logChanges = new ChangeFeed();
  /** The configuration handed to peers. */
  readonly clusterConfig: ClusterConfig;
  /** Malformed messages the fronts saw, for metrics. */
  protocolErrors = 0;
  /** The functions the Router ships, if any. */
  readonly shipped: ShippedSource | undefined;
  readonly #log: Logger;
  readonly #link: PeerLink;
  readonly #heartbeatMs: number;
  readonly #mirror: CommitMirror | undefined;
  /** The mirror's figures, when the store has one. */
  get mirrorStats(): MirrorStats | undefined {
    return this.#mirror?.stats();
  }
  /** Events to brokers and pipeliners, sent before the commit. */
  readonly #work: Outgoing[] = [];
  /** Replies and broadcasts, sent once the store has committed. */
  readonly #acks: Outgoing[] = [];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  /** Set by `stop`: no batch runs after it (the store is about to close). */
  #closed = false;

  constructor(deps: HubDeps) {
    this.store = deps.store;
    this.registry = deps.registry;
    this.#log = deps.log;
    this.#link = deps.link;
    this.#heartbeatMs = deps.heartbeatMs;
    this.#mirror = deps.mirror;
    this.clusterConfig = { heartbeatMs: deps.heartbeatMs, broadcast: deps.broadcast };
    this.shipped = deps.shipped;
    this.service = new PipelineService({
      store: deps.store,
      registry: deps.registry,
      outbox: this,
      log: deps.log,
      options: deps.options,
      later: (ms, task) => this.later(ms, task),
      ...(deps.tracing ? { tracing: deps.tracing } : {}),
    });
    this.waiters = new Waiters(this);
    this.schedules = new Schedules({
      store: deps.store,
      service: this.service,
      registry: deps.registry,
      log: deps.log,
      batch: (task) => this.batch(task),
      limits: deps.options.limits,
    });
    this.peers = new Peers(this, deps.log, deps.peerTimeoutMs);
  }

  /** Starts the liveness checks and the schedules (call once pipelines are resumed). */
  start(): void {
    this.batch(() => this.schedules.start());
    const check = setInterval(
      () => this.batch(() => this.peers.checkLiveness()),
      this.#heartbeatMs,
    );
    this.#timers.add(check);
  }

  /** Runs `task` later as a batch of its own. */
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
    if (this.#closed || this.#mirror?.mayAct() === false) return;
    try {
      task();
    } catch (error) {
      this.#log.error("Task failed: {error}", { error: toErrorData(error).message });
    }
    // A refused mirror commit fences the Router (its owner hears of it): nothing to do here.
    this.#commit()?.catch(() => {});
  }

  /**
   * Runs a request as a batch of its own and resolves with its result once the store
   * has committed (durably: with a mirror, once the mirror has); its error is
   * rethrown then.
   *
   * @throws {NotActiveError} when the Router may not act (its lease is gone).
   */
  async execute<T>(task: () => T): Promise<T> {
    if (this.#closed || this.#mirror?.mayAct() === false) {
      throw new NotActiveError("This Router is not the active one");
    }
    let result: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      result = { ok: true, value: task() };
    } catch (error) {
      result = { ok: false, error };
    }
    const durable = this.#commit();
    if (durable) await durable;
    if (!result.ok) throw result.error;
    return result.value;
  }

  /** Queues an event to a broker or pipeliner (sent at the end of the batch, before its commit). */
  toPeer(address: Uint8Array, event: PeerEvent): void {
    this.#work.push({ address, viaReq: false, body: encodeBody(event) });
  }

  /** Queues a reply to a request (sent after the commit). */
  reply(address: Uint8Array, viaReq: boolean, message: Reply): void {
    this.#acks.push({ address, viaReq, body: encodeBody(message) });
  }

  /** Queues the end's broadcast and answers those waiting for it (sent after the commit). */
  pipelineEnded(record: PipelineRecord): void {
    this.#acks.push({
      frames: encodeBroadcast({
        type: "pipeline-ended",
        pipelineId: record.id,
        status: record.status,
      }),
    });
    this.waiters.ended(record);
  }

  /** Stops the timers, the schedules and the waiters; no batch runs after this. */
  stop(): void {
    this.#closed = true;
    this.schedules.stop();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.waiters.clear();
  }

  /** Commits; with a mirror, what depends on the commit waits for the returned promise. */
  #commit(): Promise<void> | undefined {
    const mirror = this.#mirror;
    try {
      this.service.dispatch();
      // The lease is checked before anything leaves: a Router paused past it sends nothing.
      if (mirror && !mirror.mayAct()) {
        this.#work.length = 0;
        this.#acks.length = 0;
        return Promise.reject(new NotActiveError("This Router lost its lease"));
      }
      this.#link.send(this.#work.splice(0));
      this.store.commit();
    } catch (error) {
      this.#log.fatal("Store commit failed: {error}", { error: toErrorData(error).message });
      throw error;
    }
    const acks = this.#acks.splice(0);
    const touched = this.store.takeTouched();
    const logged = this.store.logs.takeTouched();
    const durable = mirror?.committed();
    if (!durable) return this.#release(acks, touched, logged);
    return durable.then(() => {
      if (!mirror!.mayAct()) throw new NotActiveError("This Router lost its lease");
      this.#release(acks, touched, logged);
    });
  }

  /** Sends a commit's answers and tells the live views. */
  #release(acks: Outgoing[], touched: Set<string>, logged: Set<string>): undefined {
    // Answers first: live views (the dashboard's SSE) can wait for them, the callers not.
    this.#link.send(acks);
    this.changes.publish(touched);
    if (this.logChanges.size > 0) this.logChanges.publish(logged.union(touched));
    return undefined;
  }
}
