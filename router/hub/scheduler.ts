/**
 * Ready job attempts waiting for a broker slot, and the attempts running on
 * brokers. Hands each ready attempt to a broker with a free slot that serves its
 * function, so none waits while a suitable broker is idle.
 *
 * Order: a higher pipeline `priority` first, aged a level per `agingMs` waited (see
 * `priority_lanes.ts`); first in, first out within one. A function's flow-control
 * limits (`concurrency`, `concurrencyKey`, `rateLimit`, counted in `limits.ts`)
 * hold its attempts here, in no slot, while others pass them by. While every queued
 * attempt is of priority 0 and of a function without limits (the usual case), the
 * queues are drained function by function as plain FIFOs, as cheap as ever.
 *
 * @module
 */
import {
  type Attempt,
  DEFAULT_AGING_MS,
  executionKey,
  type RunningAttempt,
  type SchedulerOptions,
} from "./attempt.ts";
import { FunctionQueue, type Pick } from "./function_queue.ts";
import { LimitBook, type LimitView } from "./limit_book.ts";
import type { FunctionLimit } from "./limits.ts";
import { WHOLE } from "./limits.ts";
import type { Queued } from "./priority_lanes.ts";
import type { BrokerEntry, Registry } from "./registry.ts";

export type { Attempt, MapItemRef, RunningAttempt, SchedulerOptions } from "./attempt.ts";
export { DEFAULT_AGING_MS, executionKey } from "./attempt.ts";
export type { LimitView } from "./limit_book.ts";

/** The queue of ready attempts and the table of running ones. */
export class Scheduler {
  readonly #registry: Registry;
  readonly #agingMs: number;
  readonly #later: ((ms: number, task: () => void) => void) | undefined;
  readonly #noteStart: ((fn: string, at: number) => void) | undefined;
  readonly #clock: () => number;
  readonly #queues = new Map<string, FunctionQueue>();
  readonly #queued = new Set<string>();
  readonly running = new Map<string, RunningAttempt>();
  /** With tracing on: when each waiting attempt was queued (epoch ms). */
  queuedAt: Map<string, number> | undefined;
  /** Limits by function, and what carries them over a restart. */
  readonly limits: LimitBook;
  /** Queued attempts per priority. */
  readonly #byPriority: number[] = new Array(10).fill(0);
  /** Queued attempts of a priority above 0, or of a function with a limit: the slow path. */
  #special = 0;
  #seq = 0;
  /** When a timer is armed to dispatch again (a rate window opening), epoch ms. */
  #wakeAt = Infinity;

  constructor(registry: Registry, options: SchedulerOptions = {}) {
    this.#registry = registry;
    this.limits = new LimitBook(registry);
    this.#agingMs = options.agingMs ?? DEFAULT_AGING_MS;
    this.#later = options.later;
    this.#noteStart = options.noteStart;
    this.#clock = options.clock ?? Date.now;
  }

  /** Attempts waiting for a slot. */
  get depth(): number {
    return this.#queued.size;
  }

  /** Waiting attempts per function. */
  depthByFunction(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [fn, queue] of this.#queues) if (queue.size) out[fn] = queue.size;
    return out;
  }

  /**
   * Per function with attempts waiting: how many, and when the oldest was queued
   * (epoch ms). Costs a look per priority lane (and key) of each function.
   */
  queued(): Map<string, { depth: number; oldestAt: number }> {
    const out = new Map<string, { depth: number; oldestAt: number }>();
    for (const [fn, queue] of this.#queues) {
      if (queue.size) out.set(fn, { depth: queue.size, oldestAt: queue.oldestAt() });
    }
    return out;
  }

  /** Waiting attempts per function and priority (only the counts above 0). */
  depthByPriority(): Record<string, Record<number, number>> {
    const out: Record<string, Record<number, number>> = {};
    for (const [fn, queue] of this.#queues) {
      const counts: Record<number, number> = {};
      for (const item of queue) {
        counts[item.attempt.priority] = (counts[item.attempt.priority] ?? 0) + 1;
      }
      if (queue.size) out[fn] = counts;
    }
    return out;
  }

  /**
   * Per function with a limit: the limit, what runs under it, and how many queued
   * attempts its limit holds back now.
   */
  limitViews(now = this.#clock()): LimitView[] {
    this.#refreshLimits();
    const views: LimitView[] = [];
    for (const limit of this.limits.values()) {
      if (!limit.limited) continue;
      const queue = this.#queues.get(limit.fn);
      let waiting = 0;
      if (queue) {
        const rateHolds = !limit.rateAdmits(now);
        for (const item of queue) if (rateHolds || !limit.concurrencyAdmits(item.key)) waiting++;
      }
      views.push({
        fn: limit.fn,
        ...(limit.concurrency !== undefined ? { concurrency: limit.concurrency } : {}),
        ...(limit.keyField !== undefined ? { concurrencyKey: limit.keyField } : {}),
        ...(limit.rate ? { rateLimit: { ...limit.rate } } : {}),
        running: limit.runningCount,
        keys: limit.running.size,
        queued: queue?.size ?? 0,
        waiting,
      });
    }
    return views.sort((a, b) => a.fn.localeCompare(b.fn));
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

  /**
   * Whether a broker should not start `fn` by itself after another job (a follower
   * bypasses this queue): its function has a limit, or attempts of a higher priority
   * wait.
   */
  holdsBack(fn: string, priority: number): boolean {
    if (this.#limitOf(fn).limited) return true;
    if (this.#special === 0) return false;
    for (let p = priority + 1; p < this.#byPriority.length; p++) {
      if (this.#byPriority[p]! > 0) return true;
    }
    return false;
  }

  /** Queues an attempt (no-op if that job is already queued or running). */
  enqueue(attempt: Attempt): void {
    const key = executionKey(attempt.pipelineId, attempt.jobId);
    if (this.has(key)) return;
    this.#queued.add(key);
    this.queuedAt?.set(key, Date.now());
    let queue = this.#queues.get(attempt.fn);
    if (!queue) {
      queue = this.#queueOf(attempt.fn);
      this.#queues.set(attempt.fn, queue);
    }
    const limit = queue.limit;
    const special = attempt.priority !== 0 || limit !== undefined;
    if (special) this.#special++;
    this.#byPriority[attempt.priority]!++;
    queue.push({
      attempt,
      at: this.#clock(),
      seq: this.#seq++,
      key: queue.byKey ? limit!.keyOf(attempt.input) : WHOLE,
    });
  }

  /** A new queue for `fn`, sorted by its limit's key if it has one. */
  #queueOf(fn: string): FunctionQueue {
    const limit = this.#limitOf(fn);
    return new FunctionQueue(fn, limit.limited ? limit : undefined);
  }

  /** The limit of `fn` from its current config (`limited` false when it has none). */
  #limitOf(fn: string): FunctionLimit {
    this.#refreshLimits();
    return this.limits.of(fn);
  }

  /**
   * Functions' configs changed: every limit takes its config again, and queues whose
   * limit or key changed are sorted again.
   */
  #refreshLimits(): void {
    if (!this.limits.refresh()) return;
    for (const [fn, queue] of this.#queues) {
      const limit = this.limits.of(fn);
      const now = limit.limited ? limit : undefined;
      if (now === queue.limit && now?.keyField === queue.keyField) continue;
      const items = [...queue];
      const fresh = this.#queueOf(fn);
      this.#queues.set(fn, fresh);
      for (const item of items) {
        const wasSpecial = item.attempt.priority !== 0 || queue.limit !== undefined;
        const isSpecial = item.attempt.priority !== 0 || fresh.limit !== undefined;
        this.#special += Number(isSpecial) - Number(wasSpecial);
        fresh.push({
          ...item,
          at: item.at,
          key: fresh.byKey ? fresh.limit!.keyOf(item.attempt.input) : WHOLE,
        });
      }
    }
  }

  /** Removes the waiting attempts of a pipeline; returns their job ids. */
  dropPipeline(pipelineId: string): string[] {
    return this.#drop((a) => a.pipelineId === pipelineId);
  }

  /** Removes the waiting attempts of one `map` job's items. */
  dropItems(pipelineId: string, jobId: string): void {
    this.#drop((a) => a.pipelineId === pipelineId && a.item?.jobId === jobId);
  }

  /** Removes the waiting attempts `drops` picks; returns their job ids. */
  #drop(drops: (attempt: Attempt) => boolean): string[] {
    const dropped: string[] = [];
    for (const queue of this.#queues.values()) {
      const keep = (item: Queued) => {
        const a = item.attempt;
        if (!drops(a)) return true;
        this.#queued.delete(executionKey(a.pipelineId, a.jobId));
        if (a.priority !== 0 || queue.limit !== undefined) this.#special--;
        this.#byPriority[a.priority]!--;
        dropped.push(a.jobId);
        queue.size--;
        return false;
      };
      queue.keep(keep);
    }
    return dropped;
  }

  /**
   * Matches waiting attempts with free slots; calls `start` for each match
   * (which sends it) and records it as running.
   */
  dispatch(now: number, start: (attempt: Attempt, broker: BrokerEntry) => void): number {
    if (this.#special > 0 || this.limits.stale) {
      return this.#dispatchInOrder(now, start);
    }
    let started = 0;
    for (const [fn, queue] of this.#queues) {
      const lanes = queue.lanes;
      while (lanes.size > 0) {
        const broker = this.#registry.pickBroker(fn);
        if (!broker) break;
        const { attempt } = lanes.shift(0);
        queue.size--;
        this.#byPriority[0]!--;
        this.#queued.delete(executionKey(attempt.pipelineId, attempt.jobId));
        this.markRunning(attempt, broker, now);
        start(attempt, broker);
        started++;
      }
      if (queue.size === 0) this.#queues.delete(fn);
    }
    return started;
  }

  /**
   * The slow path: one attempt at a time, the best of all functions' (aged priority,
   * then arrival), skipping functions with no broker free or whose limit holds.
   */
  #dispatchInOrder(now: number, start: (attempt: Attempt, broker: BrokerEntry) => void): number {
    this.#refreshLimits();
    let started = 0;
    const stuck = new Set<FunctionQueue>();
    /** Set once a limited attempt found no free slot: what ranks after it queues ahead nowhere. */
    let freeOnly = false;
    let wake = Infinity;
    const pick: Pick = { lanes: undefined!, lane: -1, aged: 0, seq: 0 };
    const best: Pick & { queue?: FunctionQueue } = { ...pick };
    while (true) {
      best.queue = undefined;
      for (const queue of this.#queues.values()) {
        if (queue.size === 0 || stuck.has(queue)) continue;
        const limit = queue.limit;
        const opens = limit?.rateOpensAt(now);
        if (opens !== undefined) {
          wake = Math.min(wake, opens);
          stuck.add(queue);
          continue;
        }
        if (!queue.pick(now, this.#agingMs, pick)) {
          stuck.add(queue);
          continue;
        }
        if (
          !best.queue || pick.aged > best.aged || (pick.aged === best.aged && pick.seq < best.seq)
        ) {
          Object.assign(best, pick);
          best.queue = queue;
        }
      }
      const queue = best.queue;
      if (!queue) break;
      // A limited function's attempt goes only into a free slot, not a broker's queue:
      // it counts as started when sent, so it must start then.
      // Nor may attempts ranked after it fill the brokers' queues meanwhile, or a
      // limited function would wait for ever behind short jobs of others.
      const limited = queue.limit !== undefined;
      const broker = this.#registry.pickBroker(queue.fn, limited || freeOnly);
      if (!broker) {
        stuck.add(queue);
        freeOnly ||= limited;
        continue;
      }
      const item = best.lanes.shift(best.lane);
      queue.size--;
      const attempt = item.attempt;
      if (attempt.priority !== 0 || queue.limit !== undefined) this.#special--;
      this.#byPriority[attempt.priority]!--;
      this.#queued.delete(executionKey(attempt.pipelineId, attempt.jobId));
      this.markRunning(attempt, broker, now, item.key);
      start(attempt, broker);
      started++;
    }
    for (const [fn, queue] of this.#queues) if (queue.size === 0) this.#queues.delete(fn);
    this.#wakeUpAt(wake, now);
    return started;
  }

  /** Dispatches again when a rate window opens. */
  #wakeUpAt(at: number, now: number): void {
    if (at === Infinity || !this.#later) return;
    if (this.#wakeAt > now && this.#wakeAt <= at) return; // One already comes in time.
    this.#wakeAt = at;
    this.#later(Math.max(0, at - now), () => {
      this.#wakeAt = Infinity;
    });
  }

  /** Records an attempt as running on a broker (dispatched, or started by the broker itself). */
  markRunning(attempt: Attempt, broker: BrokerEntry, now: number, limitKey?: string): void {
    const key = executionKey(attempt.pipelineId, attempt.jobId);
    broker.running.add(key);
    const running: RunningAttempt = { ...attempt, broker: broker.id, startedAt: now };
    // Only the slow path starts attempts of limited functions (and says their key).
    const limit = limitKey !== undefined ? this.limits.get(attempt.fn) : undefined;
    if (limit?.limited) {
      const counted = limitKey ?? limit.keyOf(attempt.input);
      limit.started(counted, now);
      if (limit.rate) this.#noteStart?.(attempt.fn, now);
      running.limit = limit;
      running.limitKey = counted;
    } else if (running.limit) {
      // Requeued from a running attempt (its broker lost) whose limit is gone since.
      running.limit = undefined;
    }
    this.running.set(key, running);
  }

  /** Ends a running attempt (its slot is free again) and returns it. */
  finish(key: string): RunningAttempt | undefined {
    const running = this.running.get(key);
    if (!running) return undefined;
    this.running.delete(key);
    this.#registry.brokers.get(running.broker)?.running.delete(key);
    running.limit?.ended(running.limitKey!);
    this.limits.release(key);
    return running;
  }

  /** Running attempts on one broker (e.g. when it is declared dead). */
  runningOn(brokerId: string): RunningAttempt[] {
    return [...this.running.values()].filter((r) => r.broker === brokerId);
  }
}
