/**
 * Brokers, worker hosts and pipeliners as the hub knows them: who joined (a hello,
 * and what a hello again means for the work a peer held), what their events mean
 * for the pipelines, and who fell silent.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { ErrorName } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import type {
  BrokerHelloRequest,
  ClusterConfig,
  FetchFileRequest,
  FileContent,
  FunctionInfo,
  FunctionsManifestEvent,
  PeerEvent,
  PipelinerHelloRequest,
  RouterEvent,
} from "../../core/protocol/mod.ts";
import type { PipelineService } from "./pipelines/service.ts";
import type { BrokerEntry, Registry } from "./registry.ts";
import type { JobLogs } from "./job_logs.ts";

const decoder = new TextDecoder();
/** The most jobs per slot a broker may ask to queue ahead. */
const MAX_PREFETCH = 64;

/** The functions of `infos` a broker can run (not those that failed to load). */
function runnableNames(infos: Iterable<FunctionInfo>): string[] {
  return [...infos].filter((f) => !f.error).map((f) => f.name);
}

/** The Router's shipped functions, as the peers see them (see `router/functions/shipped.ts`). */
export interface ShippedSource {
  readonly manifest: FunctionsManifestEvent | undefined;
  file(sha256: string): Uint8Array | undefined;
}

/** A request the Router refuses for who asks or what it asks for; `name` says which. */
export class PeerRequestError extends Error {
  readonly retryable = false;
  constructor(name: typeof ErrorName.UnknownPeer | typeof ErrorName.FileNotFound, message: string) {
    super(message);
    this.name = name;
  }
}

/** What the peers need of the hub. */
interface PeersHub {
  readonly registry: Registry;
  readonly service: PipelineService;
  readonly clusterConfig: ClusterConfig;
  readonly shipped: ShippedSource | undefined;
  readonly store: { readonly logs: Pick<JobLogs, "append"> };
  toPeer(address: Uint8Array, event: PeerEvent): void;
  batch(task: () => void): void;
}

/** Joins, events and liveness of the Router's peers. */
export class Peers {
  readonly #hub: PeersHub;
  readonly #log: Logger;
  readonly #timeoutMs: number;

  constructor(hub: PeersHub, log: Logger, timeoutMs: number) {
    this.#hub = hub;
    this.#log = log;
    this.#timeoutMs = timeoutMs;
  }

  /** `broker` now serves `functions`: the registry and the remembered functions follow. */
  #served(broker: BrokerEntry, functions: FunctionInfo[]): void {
    const before = runnableNames(broker.functions.values());
    const { registry, service } = this.#hub;
    registry.setFunctions(broker, functions);
    service.known.changed(before, runnableNames(functions), registry.runnable());
  }

  /** A broker or worker host joins (or joins again); returns the cluster configuration. */
  brokerHello(address: Uint8Array, request: BrokerHelloRequest): ClusterConfig {
    const { registry, service } = this.#hub;
    const id = decoder.decode(address);
    const previous = registry.brokers.get(id);
    if (previous?.of !== undefined && previous.pid === Number(request.broker.pid)) {
      // A worker host saying hello again (its first went unanswered in time): it
      // still runs what it took, so nothing is requeued.
      this.#served(previous, request.functions);
      previous.lastSeen = Date.now();
      return this.#hub.clusterConfig;
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
    this.#hub.service.known.changed(
      previous ? runnableNames(previous.functions.values()) : [],
      runnableNames(request.functions),
      registry.runnable(),
    );
    // A broker (not its hosts) is told what the Router ships, after the hello reply.
    const manifest = this.#hub.shipped?.manifest;
    if (manifest && typeof request.broker.of !== "string") {
      queueMicrotask(() => this.#hub.batch(() => this.#hub.toPeer(address, manifest)));
    }
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
    return this.#hub.clusterConfig;
  }

  /**
   * A broker fetches a shipped file by hash. Only a joined broker may: a pipeliner or a
   * stranger is refused, as for any broker-only message.
   *
   * @throws {PeerRequestError} for an unknown peer or an unknown hash.
   */
  fetchFile(address: Uint8Array, request: FetchFileRequest): FileContent {
    const id = decoder.decode(address);
    const broker = this.#hub.registry.brokers.get(id);
    if (!broker) {
      throw new PeerRequestError(ErrorName.UnknownPeer, `Only a joined broker may fetch files`);
    }
    broker.lastSeen = Date.now();
    const bytes = this.#hub.shipped?.file(request.sha256);
    if (!bytes) {
      throw new PeerRequestError(
        ErrorName.FileNotFound,
        `The Router ships no file with SHA-256 ${request.sha256}`,
      );
    }
    return { sha256: request.sha256, data: Buffer.from(bytes).toString("base64") };
  }

  /** Tells every broker (not their hosts) what the Router ships now. */
  shippedChanged(manifest: FunctionsManifestEvent): void {
    for (const broker of this.#hub.registry.brokers.values()) {
      if (broker.of === undefined) this.#hub.toPeer(broker.address, manifest);
    }
  }

  /** A pipeliner joins (or joins again); returns the cluster configuration. */
  pipelinerHello(address: Uint8Array, request: PipelinerHelloRequest): ClusterConfig {
    const { registry, service } = this.#hub;
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
      this.#hub.batch(() => service.pipelinerJoined(registry.pipeliners.get(id)!))
    );
    return this.#hub.clusterConfig;
  }

  /** An event from a peer; a peer the Router does not know is asked to say hello again. */
  event(address: Uint8Array, event: RouterEvent): void {
    const { registry, service } = this.#hub;
    const id = decoder.decode(address);
    const broker = registry.brokers.get(id);
    const pipeliner = registry.pipeliners.get(id);
    const now = Date.now();
    if (broker) broker.lastSeen = now;
    if (pipeliner) pipeliner.lastSeen = now;
    const unknown = () => this.#hub.toPeer(address, { type: "hello-again" });
    switch (event.type) {
      case "broker-status":
        if (broker) broker.load = event.load;
        else unknown();
        return;
      case "broker-functions":
        if (broker) this.#served(broker, event.functions);
        else unknown();
        return;
      case "job-done":
        if (broker) return service.jobDone(broker, event);
        service.unknownResult(id, event);
        unknown();
        // A broker counted as gone: its jobs run elsewhere, so what it started by itself
        // after this one is stopped.
        if (event.followed) {
          this.#hub.toPeer(address, {
            type: "job-cancel",
            pipelineId: event.pipelineId,
            jobId: event.followed.jobId,
            attempt: event.followed.attempt,
          });
        }
        return;
      case "job-logs":
        // Only the broker running that attempt may log for it.
        if (broker && service.scheduler.runsOn(event, broker.id)) {
          this.#hub.store.logs.append(event);
        } else if (!broker) unknown();
        return;
      case "goodbye":
        // A worker host leaves having reported every job it ran: the rest never began.
        if (broker?.of !== undefined) service.hostLost(broker);
        else if (broker) service.brokerGone(broker);
        if (pipeliner) service.pipelinerGone(pipeliner);
        return;
      case "host-lost": {
        // Only a host's own broker can say it died, and only of that process (a host
        // started again may have joined under the same id already).
        const host = registry.brokers.get(event.host);
        if (broker && host?.of === broker.id && host.pid === event.pid) {
          service.hostLost(host, event);
        } else if (!broker) unknown();
        return;
      }
      case "pipeliner-status":
        if (!pipeliner) unknown();
        return;
      case "job-request":
        if (pipeliner) service.jobRequest(pipeliner, event);
        else unknown();
        return;
      case "pipeline-finish":
        if (pipeliner) service.pipelineFinish(pipeliner, event);
        else unknown();
        return;
      default: {
        const never: never = event;
        throw new TypeError(`Unhandled event ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Drops a peer as if it had fallen silent (its jobs run elsewhere): its key was
   * taken off the allow-list, or another key holds its routing id now.
   */
  drop(id: string, why: string): void {
    const { registry, service } = this.#hub;
    const broker = registry.brokers.get(id);
    const pipeliner = registry.pipeliners.get(id);
    if (broker) service.brokerGone(broker);
    if (pipeliner) service.pipelinerGone(pipeliner);
    if (broker || pipeliner) this.#log.warn("Dropped peer {peer}: {why}", { peer: id, why });
  }

  /** Declares dead the peers silent for longer than the timeout. */
  checkLiveness(): void {
    const { registry, service } = this.#hub;
    const silent = registry.silentSince(Date.now() - this.#timeoutMs);
    for (const broker of silent.brokers) {
      this.#log.warn("Broker {broker} is silent: declaring it dead", { broker: broker.id });
      service.brokerGone(broker);
    }
    for (const pipeliner of silent.pipeliners) {
      this.#log.warn("Pipeliner {pipeliner} is silent: declaring it dead", {
        pipeliner: pipeliner.id,
      });
      service.pipelinerGone(pipeliner);
    }
  }
}
