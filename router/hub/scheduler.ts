/**
 * Ready job attempts waiting for a broker slot, FIFO per function, and the
 * attempts running on brokers. Hands each ready attempt to a broker with a free
 * slot that serves its function, so none waits while a suitable broker is idle.
 *
 * @module
 */
import type { JobPlan } from "../../core/protocol/mod.ts";
import type { JsonObject } from "../../core/types.ts";
import type { BrokerEntry, Registry } from "./registry.ts";

/** One attempt of one job. */
export interface Attempt {
  readonly pipelineId: string;
  readonly jobId: string;
  readonly fn: string;
  readonly input: JsonObject;
  readonly attempt: number;
  /** What the Router does by itself when it succeeds (from its pipeliner). */
  readonly plan?: JobPlan;
  /** Set for an item of a `map` job (whose `jobId` is then `<map job>[<index>]`). */
  readonly item?: MapItemRef;
}

/** Which item of which `map` job an attempt runs. */
export interface MapItemRef {
  readonly jobId: string;
  readonly index: number;
}

/** An attempt on a broker. */
export interface RunningAttempt extends Attempt {
  readonly broker: string;
  readonly startedAt: number;
  /** Set when the pipeline was cancelled: the result will be dropped. */
  cancelled?: boolean;
}

/** The key of a job within the cluster. */
export function executionKey(pipelineId: string, jobId: string): string {
  return `${pipelineId}\u0000${jobId}`;
}

/** The queue of ready attempts and the table of running ones. */
export class Scheduler {
  readonly #registry: Registry;
  readonly #queues = new Map<string, Attempt[]>();
  readonly #queued = new Set<string>();
  readonly running = new Map<string, RunningAttempt>();
  /** With tracing on: when each waiting attempt was queued (epoch ms). */
  queuedAt: Map<string, number> | undefined;

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  /** Attempts waiting for a slot. */
  get depth(): number {
    return this.#queued.size;
  }

  /** Waiting attempts per function. */
  depthByFunction(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [fn, queue] of this.#queues) if (queue.length) out[fn] = queue.length;
    return out;
  }

  /** Whether this attempt of the job runs on that broker now. */
  runsOn(attempt: { pipelineId: string; jobId: string; attempt: number }, broker: string): boolean {
    const running = this.running.get(executionKey(attempt.pipelineId, attempt.jobId));
    return running?.broker === broker && running.attempt === attempt.attempt;
  }

  /** Whether this job is waiting or running. */
  has(key: string): boolean {
    return this.#queued.has(key) || this.running.has(key);
  }

  /** Queues an attempt (no-op if that job is already queued or running). */
  enqueue(attempt: Attempt): void {
    const key = executionKey(attempt.pipelineId, attempt.jobId);
    if (this.has(key)) return;
    this.#queued.add(key);
    this.queuedAt?.set(key, Date.now());
    const queue = this.#queues.get(attempt.fn) ?? [];
    queue.push(attempt);
    this.#queues.set(attempt.fn, queue);
  }

  /** Removes the waiting attempts of a pipeline; returns their job ids. */
  dropPipeline(pipelineId: string): string[] {
    const dropped: string[] = [];
    for (const [fn, queue] of this.#queues) {
      const keep = queue.filter((a) => {
        if (a.pipelineId !== pipelineId) return true;
        this.#queued.delete(executionKey(a.pipelineId, a.jobId));
        dropped.push(a.jobId);
        return false;
      });
      this.#queues.set(fn, keep);
    }
    return dropped;
  }

  /** Removes the waiting attempts of one `map` job's items. */
  dropItems(pipelineId: string, jobId: string): void {
    for (const [fn, queue] of this.#queues) {
      this.#queues.set(
        fn,
        queue.filter((a) => {
          if (a.pipelineId !== pipelineId || a.item?.jobId !== jobId) return true;
          this.#queued.delete(executionKey(a.pipelineId, a.jobId));
          return false;
        }),
      );
    }
  }

  /**
   * Matches waiting attempts with free slots; calls `start` for each match
   * (which sends it) and records it as running.
   */
  dispatch(now: number, start: (attempt: Attempt, broker: BrokerEntry) => void): number {
    let started = 0;
    for (const [fn, queue] of this.#queues) {
      while (queue.length > 0) {
        const broker = this.#registry.pickBroker(fn);
        if (!broker) break;
        const attempt = queue.shift()!;
        this.#queued.delete(executionKey(attempt.pipelineId, attempt.jobId));
        this.markRunning(attempt, broker, now);
        start(attempt, broker);
        started++;
      }
      if (queue.length === 0) this.#queues.delete(fn);
    }
    return started;
  }

  /** Records an attempt as running on a broker (dispatched, or started by the broker itself). */
  markRunning(attempt: Attempt, broker: BrokerEntry, now: number): void {
    const key = executionKey(attempt.pipelineId, attempt.jobId);
    broker.running.add(key);
    this.running.set(key, { ...attempt, broker: broker.id, startedAt: now });
  }

  /** Ends a running attempt (its slot is free again) and returns it. */
  finish(key: string): RunningAttempt | undefined {
    const running = this.running.get(key);
    if (!running) return undefined;
    this.running.delete(key);
    this.#registry.brokers.get(running.broker)?.running.delete(key);
    return running;
  }

  /** Running attempts on one broker (e.g. when it is declared dead). */
  runningOn(brokerId: string): RunningAttempt[] {
    return [...this.running.values()].filter((r) => r.broker === brokerId);
  }
}
