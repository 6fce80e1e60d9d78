/**
 * The client: submits pipelines to the Router and waits for their results, as the
 * seed's `PipelineManager` did, over the documented ZeroMQ protocol.
 *
 * @module
 */
import { Context } from "../core/zmq/mod.ts";
import { uuidv7 } from "../core/ids.ts";
import type { FunctionView, PipelineRecord, ScheduleRecord } from "../core/protocol/mod.ts";
import { RequestTimeoutError, RouterLink } from "../core/router_link.ts";
import { ErrorName } from "../core/errors.ts";
import type { JsonObject, PipelineSpec, ScheduleSpec } from "../core/types.ts";
import type { CurveClientKeys } from "../core/curve_keys.ts";
import { routerEndpoints } from "../core/router_endpoints.ts";

/** Where the Router listens. */
export interface ManagerOptions {
  /**
   * The Router's request endpoint, or those of every Router of a cluster (a list or a
   * comma list): the client connects to each and talks to the active one, the only one
   * bound. Default `tcp://127.0.0.1:5555`.
   */
  api?: string | readonly string[];
  /**
   * The Router's broadcast endpoint (or endpoints). Accepted as the seed's client took
   * it; waiting now uses the request socket (a `wait` request), which cannot miss an
   * end, and which follows the active Router.
   */
  broadcast?: string | readonly string[];
  /** Request timeout, ms. Default 10,000. */
  requestTimeoutMs?: number;
  /**
   * The largest reply taken from the Router, in bytes (-1 for no limit). Default 64
   * MiB; a bigger one is dropped, and its request times out.
   */
  maxMessageSize?: number;
  /**
   * Connect with CURVE: `serverKey` is the Router's public key, `publicKey` and
   * `secretKey` this client's pair (its public key on the Router's allow-list as
   * `client`). All Z85.
   */
  curve?: CurveClientKeys;
}

/** Something that can be submitted: a {@linkcode Pipeline} or its JSON form. */
export type Submittable = PipelineSpec | { toSpec(): PipelineSpec };

/** A schedule as the client takes it: its pipeline a {@linkcode Pipeline} or its JSON form. */
export type ScheduleInput = Omit<ScheduleSpec, "pipeline"> & { pipeline: Submittable };

function scheduleSpec(input: ScheduleInput): ScheduleSpec {
  const { pipeline } = input;
  return { ...input, pipeline: "toSpec" in pipeline ? pipeline.toSpec() : pipeline };
}

/** A pipeline's end, as {@linkcode PipelineManager.wait} returns it. */
export type PipelineResult = Pick<
  PipelineRecord,
  "id" | "status" | "document" | "jobs" | "error" | "durationMs"
>;

/** {@linkcode PipelineManager.wait} gave up. */
export class WaitTimeoutError extends Error {
  override name: string = ErrorName.WaitTimeout;
  /** The pipeline waited for. */
  readonly pipelineId: string;
  constructor(pipelineId: string, timeoutMs: number) {
    super(`Pipeline "${pipelineId}" did not end within ${timeoutMs} ms`);
    this.pipelineId = pipelineId;
  }
}

const ENDED = new Set(["succeeded", "failed", "cancelled"]);
/** How long one `wait` request may wait at the Router, ms. */
const WAIT_MS = 5000;
/** How much later than that its reply may come before the request is asked again, ms. */
const REPLY_GRACE_MS = 2000;
/** Times a submit with an idempotency key is sent before its timeout is the caller's. */
const START_ATTEMPTS = 3;

/** Talks to a Router: submit, status, cancel, wait; create and manage schedules. */
export class PipelineManager {
  readonly #context: Context;
  readonly #link: RouterLink;

  /**
   * Connects (in the background) to the Router.
   *
   * @throws {TypeError} for a bad endpoint in `api`.
   */
  constructor(options: ManagerOptions = {}) {
    // Checked before a context is made, so that a bad one leaves nothing open.
    const api = routerEndpoints("The client's api", options.api ?? "tcp://127.0.0.1:5555");
    this.#context = new Context({ hotWaitMs: 0 });
    this.#link = new RouterLink({
      api,
      context: this.#context,
      requestTimeoutMs: options.requestTimeoutMs,
      maxMessageSize: options.maxMessageSize,
      ...(options.curve ? { curve: options.curve } : {}),
    });
  }

  /**
   * Submits a pipeline; resolves with its id once the Router has stored it. With an
   * `idempotencyKey`, a submit whose reply does not come (its Router died, another took
   * over) is asked again under the key, up to 3 times: one pipeline. Without one, it is
   * sent once: a {@linkcode RequestTimeoutError} leaves open whether it was stored.
   *
   * @throws {PipelineValidationError} listing every problem.
   * @throws {RequestTimeoutError} when no reply comes (after the retries, with a key).
   */
  async start(pipeline: Submittable, options: { idempotencyKey?: string } = {}): Promise<string> {
    const spec = "toSpec" in pipeline ? pipeline.toSpec() : pipeline;
    const { idempotencyKey } = options;
    for (let attempt = 1;; attempt++) {
      try {
        const result = await this.#link.request<{ pipelineId: string }>({
          type: "submit",
          pipeline: spec,
          idempotencyKey,
        });
        return result.pipelineId;
      } catch (error) {
        const again = idempotencyKey !== undefined && error instanceof RequestTimeoutError &&
          attempt < START_ATTEMPTS;
        if (!again) throw error;
      }
    }
  }

  /**
   * Submits a pipeline and waits for its end, in one request (the cheapest way to run
   * one and get its result). A lost reply is asked again under the same idempotency
   * key, so the pipeline runs once.
   *
   * @throws {PipelineValidationError} listing every problem.
   * @throws {WaitTimeoutError} after `timeoutMs` (default: wait forever).
   */
  async run(
    pipeline: Submittable,
    options: { timeoutMs?: number; idempotencyKey?: string } = {},
  ): Promise<PipelineResult> {
    const spec = "toSpec" in pipeline ? pipeline.toSpec() : pipeline;
    const idempotencyKey = options.idempotencyKey ?? uuidv7(); // Time-ordered: cheap to index.
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let record: PipelineRecord | undefined;
    while (!record) {
      const waitMs = Math.max(0, Math.min(WAIT_MS, deadline - Date.now()));
      record = await this.#link.request<PipelineRecord>(
        { type: "submit", pipeline: spec, idempotencyKey, waitMs },
        waitMs + REPLY_GRACE_MS,
      ).catch((error) => {
        if (error instanceof RequestTimeoutError) return undefined;
        throw error;
      });
      // No answer (the Router restarted?): ask again; the key keeps it one pipeline.
      if (!record && Date.now() >= deadline) {
        throw new WaitTimeoutError(idempotencyKey, options.timeoutMs!);
      }
    }
    if (ENDED.has(record.status)) return result(record);
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeoutError(record.id, options.timeoutMs!);
    return await this.wait(record.id, { timeoutMs: left === Infinity ? undefined : left });
  }

  /** Whether the pipeline has ended (succeeded, failed or cancelled). Does not wait. */
  async finished(pipelineId: string): Promise<boolean> {
    return ENDED.has((await this.status(pipelineId)).status);
  }

  /**
   * The pipeline's record: status, document, jobs.
   *
   * @throws {RemoteError} `PipelineNotFoundError` for an unknown id.
   */
  status(pipelineId: string): Promise<PipelineRecord> {
    return this.#link.request<PipelineRecord>({ type: "status", pipelineId });
  }

  /** Cancels a pipeline; running jobs are stopped. */
  async cancel(pipelineId: string): Promise<void> {
    await this.#link.request({ type: "cancel", pipelineId });
  }

  /**
   * Delivers signal `name` to the jobs of a pipeline that wait for it (`wait: name`):
   * `payload` becomes their output. Resolves with the ids of the jobs it resumed.
   *
   * @throws {RemoteError} `PipelineNotFoundError`; `JobNotWaitingError` when no job waits for it now.
   */
  async signal(pipelineId: string, name: string, payload: JsonObject = {}): Promise<string[]> {
    const result = await this.#link.request<{ jobIds: string[] }>({
      type: "signal",
      pipelineId,
      name,
      payload,
    });
    return result.jobIds;
  }

  /** Functions the cluster's brokers serve. */
  async functions(): Promise<FunctionView[]> {
    return (await this.#link.request<{ functions: FunctionView[] }>({ type: "list-functions" }))
      .functions;
  }

  /**
   * Creates a durable cron schedule: the Router starts its pipeline at each tick.
   *
   * @throws {RemoteError} `ScheduleValidationError` listing every problem (in
   *   `data.problems`), or `ScheduleExistsError`.
   */
  createSchedule(schedule: ScheduleInput): Promise<ScheduleRecord> {
    return this.#link.request<ScheduleRecord>({
      type: "create-schedule",
      schedule: scheduleSpec(schedule),
    });
  }

  /**
   * Creates or replaces the schedule of `schedule.id`; `created` says which.
   *
   * @throws {RemoteError} `ScheduleValidationError` listing every problem.
   */
  putSchedule(schedule: ScheduleInput): Promise<{ schedule: ScheduleRecord; created: boolean }> {
    return this.#link.request({
      type: "put-schedule",
      scheduleId: schedule.id,
      schedule: scheduleSpec(schedule),
    });
  }

  /**
   * A schedule, with its next and last ticks.
   *
   * @throws {RemoteError} `ScheduleNotFoundError`.
   */
  schedule(id: string): Promise<ScheduleRecord> {
    return this.#link.request<ScheduleRecord>({ type: "get-schedule", scheduleId: id });
  }

  /** Every schedule, by id. */
  async schedules(): Promise<ScheduleRecord[]> {
    return (await this.#link.request<{ schedules: ScheduleRecord[] }>({ type: "list-schedules" }))
      .schedules;
  }

  /**
   * Deletes a schedule; the pipelines it started go on.
   *
   * @throws {RemoteError} `ScheduleNotFoundError`.
   */
  async deleteSchedule(id: string): Promise<void> {
    await this.#link.request({ type: "delete-schedule", scheduleId: id });
  }

  /**
   * Waits until the pipeline ends and returns its result.
   *
   * @throws {WaitTimeoutError} after `timeoutMs` (default: wait forever).
   */
  async wait(pipelineId: string, options: { timeoutMs?: number } = {}): Promise<PipelineResult> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    while (true) {
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(pipelineId, options.timeoutMs!);
      // The Router answers when the pipeline ends, or after WAIT_MS with its state; if it
      // restarts meanwhile, the request times out and is asked again.
      const slice = Math.min(WAIT_MS, left);
      const record = await this.#link.request<PipelineRecord>(
        { type: "wait", pipelineId, timeoutMs: slice },
        slice + REPLY_GRACE_MS,
      ).catch((error) => {
        if (error instanceof RequestTimeoutError) return undefined;
        throw error;
      });
      if (record && ENDED.has(record.status)) return result(record);
    }
  }

  /** Closes the connections; pending calls reject. */
  async close(): Promise<void> {
    await this.#link.close();
    await this.#context.close();
  }
}

/** What callers get of an ended pipeline's record. */
function result(record: PipelineRecord): PipelineResult {
  const { id, status, document, jobs, error, durationMs } = record;
  return { id, status, document, jobs, error, durationMs };
}
