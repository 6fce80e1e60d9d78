/**
 * A worker host's own link to the Router. Told to `serve`, a host joins the Router as
 * a broker of one slot and takes its jobs from it directly, with no hop through its
 * broker. With a store it fetches each job's document before the job and saves the
 * output after it. The broker that started the host still supervises it: it hands
 * over the function table, restarts the host when it dies, and gets the jobs' logs.
 *
 * @module
 */
import { toErrorData } from "../../core/errors.ts";
import { getLogger } from "../../core/log.ts";
import type { JobOutcome, JobRunEvent, PeerEvent } from "../../core/protocol/mod.ts";
import { RouterLink } from "../../core/router_link.ts";
import type { CurveClientKeys } from "../../core/curve_keys.ts";
import { RouterSession } from "../../core/router_session.ts";
import type { ErrorData, JsonObject } from "../../core/types.ts";
import { readLoad } from "../messages/load.ts";
import { functionNotFound, jobCancelled } from "../messages/errors.ts";
import type { Store } from "../messages/store.ts";
import { BlackBox } from "./black_box.ts";
import { ReportBatch } from "./reports.ts";
import { type ChainStep, jobKeyPrefix, keyOf, type QueuedJob, queuedJob } from "./job.ts";
import type { HostMessage, HostServeRequest, ServedFunction } from "../messages/host.ts";
import type { LogRecord } from "../messages/sandbox.ts";
import type { Tracing } from "../../core/tracing/mod.ts";
import { JobTrace } from "./job_trace.ts";
import { isLargeOutput } from "./json_value.ts";

/** While draining, how often to look whether the jobs taken are done, ms. */
const DRAIN_POLL_MS = 10;
/** What the service needs from its host. */
export interface HostRuns {
  /** Takes a run and its followers. */
  run(request: QueuedJob): void;
  /** Cancels a run (queued, a follower, or running). */
  cancel(id: number): void;
  /** Whether no run is waiting, loading or on a worker. */
  idle(): boolean;
  /** Sends the broker a message on stdout. */
  tell(message: HostMessage): void;
}

interface Taken {
  fn: string;
  pipelineId: string;
  jobId: string;
  attempt: number;
  /** When it was handed to its worker (`performance.now()`), once it was. */
  handedAt: number;
  /** The job of its chain that the host starts right after it, if it succeeds. */
  next?: { jobId: string; attempt: number };
  /**
   * A follower: the Router counts it as running only once told it followed. Until
   * then it never began, as far as the Router knows, and nothing is said of it.
   */
  follower: boolean;
  /** With a store: the document the Router sent, for `save`. */
  input?: JsonObject;
}

/** A host's jobs from the Router: taken, run through `runs`, reported. */
export class HostService {
  /** The slot's routing id, `<broker>/host-<k>`. */
  readonly id: string;
  readonly #runs: HostRuns;
  readonly #link: RouterLink;
  readonly #session: RouterSession;
  #functions: Map<string, ServedFunction>;
  readonly #taken = new Map<number, Taken>();
  /** Taken runs by execution key (pipeline, job, attempt), for cancels. */
  readonly #byKey = new Map<string, number>();
  #nextId = 1;
  /** When the job before the next one ended: a host runs one job at a time. */
  #lastEnded = 0;
  /** Taken runs the Router (or a drain) called off: no follower report for them. */
  readonly #cancelled = new Set<number>();
  /** Followers the Router was told began (`followed`): their outcome is reported. */
  readonly #followed = new Set<number>();
  /** Runs a drain stopped: the Router requeues them when the host leaves. */
  readonly #abandoned = new Set<number>();
  readonly #reports: ReportBatch;
  #draining = false;
  /** Runs handed to a worker and not answered yet, in the order they run. */
  readonly #order: number[] = [];
  readonly #blackBox: BlackBox | undefined;
  /** The operator's store, if any: fetched before each job, saved after it. */
  readonly #store: Store | undefined;
  /** Outputs being saved: their reports wait, and so does a drain. */
  #saving = 0;
  /** The jobs' spans, with tracing on. */
  readonly #trace: JobTrace | undefined;

  /** Joins the Router (in the background, retrying until it answers). */
  constructor(
    serve: HostServeRequest,
    runs: HostRuns,
    store?: Store,
    curve?: CurveClientKeys,
    tracing?: Tracing,
  ) {
    this.id = serve.id;
    this.#trace = tracing ? new JobTrace(tracing, serve.id) : undefined;
    this.#runs = runs;
    this.#store = store;
    this.#functions = table(serve.functions);
    this.#blackBox = serve.blackBox ? BlackBox.open(serve.blackBox) : undefined;
    this.#link = new RouterLink({
      api: serve.router,
      routingId: serve.id,
      ...(curve ? { curve } : {}),
      // Worker replies need the event loop: wait in ZeroMQ only with nothing in hand.
      hotWaitMs: () => this.#taken.size === 0 && runs.idle() ? 1 : 0,
      onEvent: (event) => this.#onEvent(event),
    });
    this.#reports = new ReportBatch(
      this.#link,
      runs.idle,
      (job) => job ? this.#blackBox?.write(job) : this.#record(),
    );
    this.#session = new RouterSession({
      link: this.#link,
      log: getLogger("host"),
      hello: () => ({
        type: "broker-hello",
        broker: {
          id: serve.id,
          host: serve.hostname,
          pid: Deno.pid,
          slots: 1,
          prefetch: serve.prefetch,
          of: serve.of,
        },
        functions: this.#served(),
      }),
      status: () => ({
        type: "broker-status",
        load: readLoad(this.#taken.size > 0 ? 1 : 0, 1, []),
      }),
      joined: `Worker host ${serve.id} joined the Router`,
    });
    void this.#session.join();
  }

  /** Replaces the function table and tells the Router. */
  update(functions: ServedFunction[]): void {
    this.#functions = table(functions);
    if (!this.#draining) {
      this.#link.send({ type: "broker-functions", functions: this.#served() }).catch(() => {});
    }
  }

  /** A run of ours was handed to its worker now. */
  handed(id: number): void {
    const taken = this.#taken.get(id);
    if (!taken) return;
    taken.handedAt = performance.now();
    this.#trace?.handed(id);
    if (this.#order.includes(id)) return; // Handed again: its worker died before it began.
    this.#order.push(id);
    if (this.#order.length === 1) this.#record();
  }

  /**
   * Logs of our runs go to the Router with the attempt they belong to (not to the
   * broker's log: printing a flood there cost every job on the machine); false for others.
   */
  log(id: number | null, record: LogRecord): boolean {
    const taken = id === null ? undefined : this.#taken.get(id);
    if (!taken) return false;
    // Held in order with the reports: the Router takes an attempt's lines only while it
    // runs, and a follower runs for it once the report of the job before it came.
    this.#reports.log(taken, record);
    return true;
  }

  #logOf({ fn, jobId, pipelineId }: Taken, record: LogRecord): void {
    this.#runs.tell({ type: "job-log", fn, jobId, pipelineId, record });
  }

  /** Reports how a run of ours ended; false for a run that is not ours. */
  answer(
    id: number,
    result: { ok: true; output: JsonObject } | { ok: false; error: ErrorData },
  ): boolean {
    const taken = this.#taken.get(id);
    if (!taken) return false;
    this.#taken.delete(id);
    this.#cancelled.delete(id);
    const at = this.#order.indexOf(id);
    if (at >= 0) this.#order.splice(at, 1);
    if (at === 0) this.#record(); // The next one runs now.
    this.#byKey.delete(keyOf(taken.pipelineId, taken));
    // A follower that never began as far as the Router knows is left to the Router, and
    // so is a run a drain stopped.
    const begun = !taken.follower || this.#followed.delete(id);
    const dropped = this.#abandoned.delete(id) || !begun;
    this.#trace?.ended(id, dropped ? { ok: "dropped" } : result);
    if (dropped) return true;
    const now = performance.now();
    // It began when it was handed over or when the job before it ended, whichever was later.
    const durationMs = now - Math.max(taken.handedAt, this.#lastEnded);
    this.#lastEnded = now;
    if (this.#store && result.ok) {
      this.#saving++;
      this.#store.save({ ...taken, input: taken.input ?? {} }, result.output).then(
        () => this.#ended(taken, result, durationMs),
        (error) => this.#ended(taken, { ok: false, error: toErrorData(error) }, durationMs),
      ).finally(() => this.#saving--);
    } else this.#ended(taken, result, durationMs);
    return true;
  }

  /** Logs a failure and reports the outcome, saying whether its follower began. */
  #ended(
    taken: Taken,
    result: { ok: true; output: JsonObject } | { ok: false; error: ErrorData },
    durationMs: number,
  ): void {
    const outcome: JobOutcome = result.ok
      ? { ok: true, output: result.output, durationMs }
      : { ok: false, error: result.error, durationMs };
    if (!result.ok) {
      this.#logOf(taken, {
        time: Date.now(),
        level: "info",
        message: `failed: ${result.error.message}`,
      });
    }
    // The host starts the next job of its chain the moment this one succeeds, unless
    // that one was called off before.
    const nextId = taken.next && this.#byKey.get(keyOf(taken.pipelineId, taken.next));
    const followed = result.ok && nextId !== undefined && !this.#cancelled.has(nextId)
      ? taken.next
      : undefined;
    if (followed) this.#followed.add(nextId!);
    this.#reports.add(
      {
        type: "job-done",
        pipelineId: taken.pipelineId,
        jobId: taken.jobId,
        attempt: taken.attempt,
        outcome,
        ...(followed ? { followed } : {}),
      },
      result.ok && isLargeOutput(result.output) ? taken : undefined,
    );
  }

  /**
   * Takes no more jobs, lets those taken finish for up to `graceMs` (then cancels
   * them), reports them, and leaves the Router.
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    // Serving no function, it is sent no more jobs while it finishes those it took.
    this.#link.send({ type: "broker-functions", functions: [] }).catch(() => {});
    await this.#settle(graceMs);
    // What is left is stopped and not reported: after the goodbye the Router queues it
    // again without counting a run (the one running was interrupted, not failed).
    for (const id of [...this.#taken.keys()]) {
      this.#abandoned.add(id);
      this.#cancel(id);
    }
    await this.#settle(1000);
    this.#reports.flush();
    await this.#session.stop();
    await this.#link.close();
    this.close();
  }

  /** Waits until every run taken has ended, for up to `ms`. */
  async #settle(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while ((this.#taken.size > 0 || this.#saving > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
  }

  /** Removes the black box (and its folder, once no other host's is in it). */
  close(): void {
    this.#blackBox?.close();
  }

  /**
   * Writes the job running now (the oldest handed over and not answered) to the black
   * box, or nothing: one write per job, read only if the host dies.
   */
  #record(): void {
    if (!this.#blackBox) return;
    while (this.#order.length > 0 && !this.#taken.has(this.#order[0]!)) this.#order.shift();
    const head = this.#order[0];
    this.#blackBox.write(head === undefined ? undefined : this.#taken.get(head));
  }

  #cancel(id: number): void {
    this.#cancelled.add(id);
    this.#runs.cancel(id);
  }

  #served() {
    return [...this.#functions.values()].map(({ name, config }) => ({ name, config }));
  }

  #onEvent(event: PeerEvent): void {
    switch (event.type) {
      case "job-run":
        // While draining, the Router requeues it when we say goodbye.
        if (!this.#draining) this.#take(event);
        return;
      case "job-cancel": {
        const prefix = jobKeyPrefix(event.pipelineId, event.jobId);
        for (const [key, id] of this.#byKey) {
          if (
            event.attempt === undefined ? key.startsWith(prefix) : key === prefix + event.attempt
          ) {
            this.#cancel(id);
          }
        }
        return;
      }
      case "hello-again":
        void this.#session.join();
        return;
      default:
        return; // Errors and pipeliner events are not for a broker.
    }
  }

  /** Turns a job-run (and the chain it names) into a host run. */
  #take(job: JobRunEvent): void {
    const head = this.#functions.get(job.fn);
    if (!head) {
      return this.#reports.add({
        type: "job-done",
        pipelineId: job.pipelineId,
        jobId: job.jobId,
        attempt: job.attempt,
        outcome: { ok: false, error: functionNotFound(job.fn), durationMs: 0 },
      });
    }
    const chain: ChainStep[] = [];
    // With a store, each job reads the document from it: no follower runs on the
    // document of the job before it.
    for (let next = this.#store ? undefined : job.then; next; next = next.then) {
      const fn = this.#functions.get(next.fn);
      if (!fn) break; // The Router finds a broker for the rest.
      chain.push({ step: next, fn });
    }
    const steps: ChainStep[] = [{ step: job, fn: head }, ...chain];
    const ids = steps.map(({ step, fn }, at) => {
      const id = this.#nextId++;
      const next = steps[at + 1]?.step;
      this.#taken.set(id, {
        fn: fn.name,
        pipelineId: job.pipelineId,
        jobId: step.jobId,
        attempt: step.attempt,
        handedAt: performance.now(),
        ...(next ? { next: { jobId: next.jobId, attempt: next.attempt } } : {}),
        follower: at > 0,
        ...(this.#store ? { input: job.input } : {}),
      });
      this.#byKey.set(keyOf(job.pipelineId, step), id);
      return id;
    });
    // The job came with its input: the document, narrowed to what it reads.
    if (!this.#store) return this.#run(job, queuedJob(job, head, chain, ids, job.input));
    const id = ids[0]!;
    this.#store.fetch(job).then(
      (document) => {
        if (!this.#taken.has(id)) return;
        if (this.#cancelled.has(id)) {
          this.answer(id, { ok: false, error: jobCancelled(job.jobId) });
        } else this.#run(job, queuedJob(job, head, [], ids, document));
      },
      // A store error fails the job; it never hangs the pipeline.
      (error) => this.answer(id, { ok: false, error: toErrorData(error) }),
    );
  }

  #run(job: JobRunEvent, queued: QueuedJob): void {
    this.#trace?.took(job, queued);
    this.#runs.run(queued);
  }
}

function table(functions: ServedFunction[]): Map<string, ServedFunction> {
  return new Map(functions.map((fn) => [fn.name, fn]));
}
