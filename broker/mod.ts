/**
 * The Broker: runs function modules from a folder in warm pools of sandboxed Web
 * Workers and serves the Router's jobs. Many per cluster.
 *
 * ```ts
 * import { start } from "./broker/mod.ts";
 * const broker = await start({ router: "tcp://127.0.0.1:5555", functionsDir: "functions" });
 * await broker.stop();
 * ```
 *
 * @module
 */
import { restrictInput } from "../core/dag/mod.ts";
import { toErrorData } from "../core/errors.ts";
import { getLogger } from "../core/log.ts";
import type {
  FunctionInfo,
  JobFollower,
  JobOutcome,
  JobRunEvent,
  PeerEvent,
} from "../core/protocol/mod.ts";
import { RouterLink } from "../core/router_link.ts";
import { libzmqFile, loadLibzmq } from "../core/zmq/mod.ts";
import { RouterSession } from "../core/router_session.ts";
import { readLoad } from "./load.ts";
import { RouterStore, type Store, type StoreJob } from "./store.ts";
import { jobKeyPrefix, keyOf } from "./host_service.ts";
import { type JobOutcome as PoolOutcome, WorkerPool } from "./worker_pool.ts";
import type { JobLogMessage } from "./worker_protocol.ts";

export { FileStore, RouterStore } from "./store.ts";
export type { Store, StoreJob } from "./store.ts";

/** The most jobs per slot a broker queues ahead of time unless told otherwise. */
export const DEFAULT_PREFETCH = 64;

/** Broker settings. */
export interface BrokerConfig {
  /** The Router's request endpoint. Default `tcp://127.0.0.1:5555`. */
  router?: string;
  /** Folder of function modules. Default `functions`. */
  functionsDir?: string;
  /** Worker slots (jobs at once). Default: the number of CPUs. */
  workers?: number;
  /**
   * The most jobs per slot taken from the Router ahead of time and queued here, so a
   * slot never waits for the Router between short jobs. The Router sends about 50 ms
   * of work per slot ahead: the full amount for trivial jobs, none for jobs of 50 ms
   * or more (which then spread over brokers). Default 64; 0 turns it off.
   */
  prefetch?: number;
  /** Heap limit of each worker host, MiB. Default 256. */
  heapMb?: number;
  /** This broker's id (its routing id). Default: host, pid and a random suffix. */
  id?: string;
  /** Where job inputs come from and outputs go. Default {@linkcode RouterStore}. */
  store?: Store;
}

/** A running broker. */
export interface BrokerHandle {
  /** Its id. */
  readonly id: string;
  /** Stops taking jobs, lets running ones finish (up to `graceMs`), says goodbye. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a broker: loads the functions, warms the pool, joins the Router. */
export async function start(config: BrokerConfig = {}): Promise<BrokerHandle> {
  const log = getLogger("broker");
  const id = config.id ??
    `broker-${Deno.hostname()}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const functionsDir = config.functionsDir ?? "functions";
  const slots = config.workers ?? navigator.hardwareConcurrency;
  const prefetch = config.prefetch ?? DEFAULT_PREFETCH;
  if (!Number.isInteger(prefetch) || prefetch < 0) {
    throw new RangeError(`Prefetch must be a whole number from 0, got ${prefetch}`);
  }
  const store = config.store ?? new RouterStore();
  /**
   * With the default store the hosts serve the Router themselves, one slot each: no job
   * passes through this process. Another store may hold a different document, which
   * the broker must fetch for each job: then the broker runs the jobs in its hosts.
   */
  const libzmq = libzmqFile(loadLibzmq());
  const direct = store instanceof RouterStore && libzmq !== undefined;
  /** Slots the broker has itself: none when its hosts take the jobs. */
  const ownSlots = direct ? 0 : slots;
  // Each host gets its share of the prefetched jobs and runs them back to back.
  const pool = new WorkerPool({
    functionsDir,
    size: slots,
    heapMb: config.heapMb,
    depth: 1 + prefetch,
    ...(direct
      ? {
        libzmq,
        onJobLog: (message) => logJob(message),
        onHostLost: (lost) => {
          log.warn("Worker host {host} died: {error}", {
            host: lost.host,
            error: lost.error.message,
          });
          link.send({ type: "host-lost", ...lost }).catch(() => {});
        },
      }
      : {}),
  });
  const running = new Map<string, AbortController>();
  /** Followers that have not begun: called off when the broker stops. */
  const unbegun = new Set<AbortController>();
  let draining = false;

  await pool.start();
  const functions = (): FunctionInfo[] =>
    pool.registry.list().map((fn) => ({
      name: fn.name,
      config: fn.config,
      ...(fn.error ? { error: fn.error } : {}),
    }));

  /**
   * The jobs of `job.then` this broker starts right after `job` in the same host:
   * those it serves, in order. Only with the default store: another store may hold
   * a different document, which the broker must fetch for each job.
   */
  const followersOf = (job: JobRunEvent): JobFollower[] => {
    const chain: JobFollower[] = [];
    if (!job.then || !(store instanceof RouterStore)) return chain;
    for (let next: JobFollower | undefined = job.then; next; next = next.then) {
      const info = pool.registry.get(next.fn);
      if (!info || info.error) break;
      chain.push(next);
    }
    return chain;
  };

  const runJob = async (job: JobRunEvent): Promise<void> => {
    const followers = followersOf(job);
    const steps: { jobId: string; fn: string; attempt: number }[] = [job, ...followers];
    const keys = steps.map((step) => keyOf(job.pipelineId, step));
    const controllers = keys.map((key, at) => {
      const controller = new AbortController();
      running.set(key, controller);
      if (at > 0) unbegun.add(controller);
      return controller;
    });
    try {
      const started = performance.now();
      let outcomes: Promise<PoolOutcome | undefined>[];
      try {
        const info = pool.registry.get(job.fn);
        const document = await store.fetch(job);
        const input = restrictInput(document, info?.config.requires);
        outcomes = pool.runChain(
          {
            fn: job.fn,
            input,
            // Followers read the whole document; a job alone needs none.
            ...(input === document || followers.length === 0 ? {} : { document }),
            jobId: job.jobId,
            pipelineId: job.pipelineId,
            attempt: job.attempt,
            signal: controllers[0]!.signal,
          },
          followers.map((next, at) => ({
            fn: next.fn,
            jobId: next.jobId,
            attempt: next.attempt,
            signal: controllers[at + 1]!.signal,
          })),
        );
      } catch (error) {
        // A store error fails the job; it never hangs the pipeline.
        const durationMs = performance.now() - started;
        outcomes = [
          Promise.resolve({ ok: false, error: toErrorData(error), durationMs, logs: [] }),
        ];
      }
      // Reported in order: the Router learns a job succeeded before its follower's outcome.
      for (let at = 0; at < outcomes.length; at++) {
        const result = await outcomes[at];
        if (!result) return; // It never began: the one before it did not succeed.
        const step = steps[at]!;
        const outcome = await settle({ ...job, ...step }, result);
        running.delete(keys[at]!);
        // A follower cancelled before this job ended never began (or is being stopped), and
        // one whose function went meanwhile is left to the Router, which finds a broker for it.
        const following = steps[at + 1];
        const info = following && pool.registry.get(following.fn);
        const next = outcome.ok && info && !info.error && !controllers[at + 1]!.signal.aborted
          ? following
          : undefined;
        if (next) unbegun.delete(controllers[at + 1]!);
        await report(job.pipelineId, step, outcome, next);
        if (!next) {
          for (const controller of controllers.slice(at + 1)) controller.abort();
          return;
        }
      }
    } finally {
      for (const key of keys) running.delete(key);
      for (const controller of controllers) unbegun.delete(controller);
    }
  };

  /** Logs what a job a serving host took logged. */
  const logJob = ({ fn, jobId, pipelineId, record }: JobLogMessage) =>
    log[record.level](`[${fn}] ${record.message}`, { ...record.fields, jobId, pipelineId });

  /** Logs what a job logged and saves its output; a store error fails the job. */
  const settle = async (
    job: StoreJob & { fn: string },
    result: PoolOutcome,
  ): Promise<JobOutcome> => {
    for (const record of result.logs) {
      log[record.level](`[${job.fn}] ${record.message}`, {
        ...record.fields,
        jobId: job.jobId,
        pipelineId: job.pipelineId,
      });
    }
    try {
      if (result.ok) await store.save(job, result.output);
    } catch (error) {
      return { ok: false, error: toErrorData(error), durationMs: result.durationMs };
    }
    return result.ok
      ? { ok: true, output: result.output, durationMs: result.durationMs }
      : { ok: false, error: result.error, durationMs: result.durationMs };
  };

  const report = async (
    pipelineId: string,
    job: { jobId: string; fn: string; attempt: number },
    outcome: JobOutcome,
    followed: { jobId: string; attempt: number } | undefined,
  ): Promise<void> => {
    if (!outcome.ok) {
      log.info("Job {jobId} of {pipelineId} ({fn}) failed: {error}", {
        jobId: job.jobId,
        pipelineId,
        fn: job.fn,
        error: outcome.error.message,
      });
    }
    await link.send({
      type: "job-done",
      pipelineId,
      jobId: job.jobId,
      attempt: job.attempt,
      outcome,
      ...(followed ? { followed: { jobId: followed.jobId, attempt: followed.attempt } } : {}),
    }).catch((error) =>
      log.warn("Could not report job {jobId}: {error}", {
        jobId: job.jobId,
        error: toErrorData(error).message,
      })
    );
  };

  const onEvent = (event: PeerEvent) => {
    switch (event.type) {
      case "job-run":
        if (draining) return; // The Router requeues it when we say goodbye.
        void runJob(event);
        return;
      case "job-cancel": {
        if (event.attempt !== undefined) {
          running.get(keyOf(event.pipelineId, { jobId: event.jobId, attempt: event.attempt }))
            ?.abort();
          return;
        }
        for (const [key, controller] of running) {
          if (key.startsWith(jobKeyPrefix(event.pipelineId, event.jobId))) controller.abort();
        }
        return;
      }
      case "hello-again":
        void session.join();
        return;
      case "error":
        log.warn("The Router rejected a message: {error}", { error: event.error.message });
        return;
      case "pipeline-assign":
      case "job-result":
      case "pipeline-cancel":
        log.warn("Unexpected {type} for a broker", { type: event.type });
        return;
      default:
        return assertNever(event);
    }
  };

  const link = new RouterLink({
    api: config.router ?? "tcp://127.0.0.1:5555",
    routingId: id,
    // Host replies arrive on pipes: hold the event loop in a ZeroMQ wait only while no
    // job is in hand, when the next message can only come from the Router.
    hotWaitMs: () => running.size === 0 ? 1 : 0,
    onEvent,
    onProtocolError: (error) =>
      log.warn("Malformed message from the Router: {error}", { error: error.message }),
  });

  const session = new RouterSession({
    link,
    log,
    // Serving hosts are the slots; the broker itself announces the functions it keeps
    // them running (so they count as served while a host restarts), with no slot.
    hello: () => ({
      type: "broker-hello",
      broker: { id, host: Deno.hostname(), pid: Deno.pid, slots: ownSlots, prefetch },
      functions: functions(),
    }),
    status: () => ({ type: "broker-status", load: readLoad(pool.busy, ownSlots, pool.pids) }),
    joined: direct
      ? `Broker ${id} joined the Router; its ${slots} worker hosts take the jobs`
      : `Broker ${id} joined the Router with ${slots} slots`,
  });

  pool.registry.onChange(() => {
    if (draining) return;
    log.info("Functions changed: {names}", { names: functions().map((f) => f.name).join(", ") });
    link.send({ type: "broker-functions", functions: functions() }).catch(() => {});
  });

  await session.join();
  if (direct) {
    pool.serve({
      router: config.router ?? "tcp://127.0.0.1:5555",
      id,
      hostname: Deno.hostname(),
      prefetch,
    });
  }
  return {
    id,
    async stop(graceMs = 5000) {
      if (draining) return;
      draining = true; // Take no new jobs; keep heartbeats while running ones finish.
      await pool.drain(graceMs); // Serving hosts finish theirs and leave the Router.
      for (const controller of unbegun) controller.abort(); // Followers are new jobs too.
      const deadline = Date.now() + graceMs;
      while (running.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const controller of running.values()) controller.abort();
      await session.stop();
      await link.close();
      await pool.close();
      log.info("Broker stopped");
    },
  };
}

function assertNever(value: never): never {
  throw new Error(`Unhandled ${JSON.stringify(value)}`);
}
