/**
 * Callers waiting for a pipeline to end (`wait` requests, and `submit` with
 * `waitMs`): each is answered in the batch that stores the end, or with the record
 * as it stands when its wait runs out.
 *
 * @module
 */
import { Deadlines } from "../../core/deadlines.ts";
import type { PipelineRecord } from "../../core/protocol/mod.ts";
import { PipelineService } from "./pipelines/service.ts";

/** Called once with the pipeline's record. */
export type Answer = (record: PipelineRecord) => void;

/** The longest wait a caller may ask for, ms. */
const MAX_WAIT_MS = 60_000;
/** The wait when a caller names none, ms. */
const DEFAULT_WAIT_MS = 5000;

/** What the waiters need of the hub. */
interface WaitersHub {
  readonly service: PipelineService;
  batch(task: () => void): void;
}

/** The waiters, by pipeline. */
export class Waiters {
  readonly #hub: WaitersHub;
  readonly #waiting = new Map<string, Set<Answer>>();
  /** When each waiter gives up (one timer for all of them). */
  readonly #deadlines = new Deadlines<Answer>();

  constructor(hub: WaitersHub) {
    this.#hub = hub;
  }

  /**
   * Answers now if the pipeline ended, else when it ends or `timeoutMs` (clamped to
   * 0..60 s; 5 s when not given) runs out.
   *
   * @throws {ServiceError} `PipelineNotFoundError`.
   */
  wait(pipelineId: string, timeoutMs: unknown, answer: Answer): void {
    const record = this.#hub.service.get(pipelineId);
    if (PipelineService.ended(record.status)) return answer(record);
    const ms = Math.min(Math.max(Number(timeoutMs ?? DEFAULT_WAIT_MS) || 0, 0), MAX_WAIT_MS);
    const waiting = this.#waiting.get(pipelineId) ?? new Set();
    this.#waiting.set(pipelineId, waiting);
    const once: Answer = (result) => {
      this.#deadlines.delete(once);
      answer(result);
    };
    this.#deadlines.add(once, ms, () => {
      waiting.delete(once);
      if (waiting.size === 0 && this.#waiting.get(pipelineId) === waiting) {
        this.#waiting.delete(pipelineId);
      }
      this.#hub.batch(() => answer(this.#hub.service.get(pipelineId)));
    });
    waiting.add(once);
  }

  /** A pipeline ended: answers everyone waiting for it. */
  ended(record: PipelineRecord): void {
    const waiting = this.#waiting.get(record.id);
    if (!waiting) return;
    this.#waiting.delete(record.id);
    for (const answer of waiting) answer(record);
  }

  /** Drops every wait unanswered (the Router stops). */
  clear(): void {
    this.#deadlines.clear();
    this.#waiting.clear();
  }
}
