/**
 * The client: submits pipelines to the Router and waits for their results, as the
 * seed's `PipelineManager` did, over the documented ZeroMQ protocol.
 *
 * @module
 */
import { Context, type Socket, SocketClosedError } from "./zmq/mod.ts";
import { endedTopic, type FunctionView, parseBroadcast, type PipelineRecord } from "./protocol.ts";
import { RequestTimeoutError, RouterLink } from "./router_link.ts";
import type { PipelineSpec } from "./types.ts";

/** Where the Router listens. */
export interface ManagerOptions {
  /** The Router's request endpoint. Default `tcp://127.0.0.1:5555`. */
  api?: string;
  /** The Router's broadcast endpoint. Default `tcp://127.0.0.1:5556`. */
  broadcast?: string;
  /** Request timeout, ms. Default 10,000. */
  requestTimeoutMs?: number;
}

/** Something that can be submitted: a {@linkcode Pipeline} or its JSON form. */
export type Submittable = PipelineSpec | { toSpec(): PipelineSpec };

/** A pipeline's end, as {@linkcode PipelineManager.wait} returns it. */
export type PipelineResult = Pick<
  PipelineRecord,
  "id" | "status" | "document" | "jobs" | "error" | "durationMs"
>;

/** {@linkcode PipelineManager.wait} gave up. */
export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";
  /** The pipeline waited for. */
  readonly pipelineId: string;
  constructor(pipelineId: string, timeoutMs: number) {
    super(`Pipeline "${pipelineId}" did not end within ${timeoutMs} ms`);
    this.pipelineId = pipelineId;
  }
}

const ENDED = new Set(["succeeded", "failed", "cancelled"]);
/** How often `wait` asks for the status in case a broadcast was missed (e.g. Router restart). */
const POLL_MS = 1000;

/** Talks to a Router: submit, status, cancel, wait. */
export class PipelineManager {
  readonly #context = new Context({ hotWaitMs: 0 });
  readonly #link: RouterLink;
  readonly #sub: Socket;
  readonly #waiters = new Map<string, Set<(record?: PipelineRecord) => void>>();
  readonly #reading: Promise<void>;

  /** Connects (in the background) to the Router. */
  constructor(options: ManagerOptions = {}) {
    this.#link = new RouterLink({
      api: options.api ?? "tcp://127.0.0.1:5555",
      context: this.#context,
      requestTimeoutMs: options.requestTimeoutMs,
    });
    this.#sub = this.#context.socket("sub", { linger: 0, reconnectInterval: 100 });
    this.#sub.connect(options.broadcast ?? "tcp://127.0.0.1:5556");
    this.#reading = this.#read();
  }

  /**
   * Submits a pipeline; resolves with its id once the Router has stored it.
   *
   * @throws {PipelineValidationError} listing every problem.
   */
  async start(pipeline: Submittable, options: { idempotencyKey?: string } = {}): Promise<string> {
    const spec = "toSpec" in pipeline ? pipeline.toSpec() : pipeline;
    const result = await this.#link.request<{ pipelineId: string }>({
      type: "submit",
      pipeline: spec,
      idempotencyKey: options.idempotencyKey,
    });
    return result.pipelineId;
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

  /** Functions the cluster's brokers serve. */
  async functions(): Promise<FunctionView[]> {
    return (await this.#link.request<{ functions: FunctionView[] }>({ type: "list-functions" }))
      .functions;
  }

  /**
   * Waits until the pipeline ends and returns its result.
   *
   * @throws {WaitTimeoutError} after `timeoutMs` (default: wait forever).
   */
  async wait(pipelineId: string, options: { timeoutMs?: number } = {}): Promise<PipelineResult> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let wake!: (record?: PipelineRecord) => void;
    const waiters = this.#waiters.get(pipelineId) ?? new Set();
    if (waiters.size === 0) this.#sub.subscribe(endedTopic(pipelineId));
    this.#waiters.set(pipelineId, waiters);
    const result = (record: PipelineRecord): PipelineResult => {
      const { id, status, document, jobs, error, durationMs } = record;
      return { id, status, document, jobs, error, durationMs };
    };
    try {
      let broadcast: PipelineRecord | undefined;
      while (true) {
        const signal = new Promise<PipelineRecord | undefined>((resolve) => (wake = resolve));
        waiters.add(wake);
        // The broadcast of the end carries the record: no status round trip needed.
        if (broadcast && ENDED.has(broadcast.status)) return result(broadcast);
        // The Router may be restarting: a status request that times out is asked again.
        const record = await this.#link.request<PipelineRecord>(
          { type: "status", pipelineId },
          Math.max(1, Math.min(2000, deadline - Date.now())),
        ).catch((error) => {
          if (error instanceof RequestTimeoutError && Date.now() < deadline) return undefined;
          if (error instanceof RequestTimeoutError) {
            throw new WaitTimeoutError(pipelineId, options.timeoutMs!);
          }
          throw error;
        });
        if (record && ENDED.has(record.status)) return result(record);
        const left = deadline - Date.now();
        if (left <= 0) throw new WaitTimeoutError(pipelineId, options.timeoutMs!);
        let timer: ReturnType<typeof setTimeout> | undefined;
        broadcast = await Promise.race([
          signal,
          new Promise<undefined>((resolve) =>
            timer = setTimeout(() => resolve(undefined), Math.min(POLL_MS, left))
          ),
        ]);
        clearTimeout(timer);
        waiters.delete(wake);
      }
    } finally {
      waiters.delete(wake);
      if (waiters.size === 0) {
        this.#waiters.delete(pipelineId);
        if (!this.#sub.closed) this.#sub.unsubscribe(endedTopic(pipelineId));
      }
    }
  }

  /** Closes the connections; pending calls reject. */
  async close(): Promise<void> {
    this.#sub.close();
    await this.#link.close();
    await this.#reading;
    await this.#context.close();
  }

  async #read(): Promise<void> {
    try {
      for await (const frames of this.#sub) {
        try {
          const message = parseBroadcast(frames);
          for (const wake of this.#waiters.get(message.pipelineId) ?? []) wake(message.record);
        } catch {
          // Not a broadcast we understand: ignore it.
        }
      }
    } catch (error) {
      if (!(error instanceof SocketClosedError)) throw error;
    }
  }
}
