/**
 * Durable cron schedules: create, replace, read and delete them, and start each
 * one's pipeline at its ticks. One timer, for the earliest next tick of all, owned by
 * the hub (`start`, `stop`); each tick runs as a hub batch, so the pipeline it starts
 * and the tick's mark commit together. A tick is handled once: it starts a pipeline,
 * is skipped (`overlap: "skip"` and the last pipeline has not ended), or fails (the
 * Router refused the pipeline, e.g. too many are active), and is marked handled
 * either way. After a downtime only the latest tick missed fires, once.
 *
 * @module
 */
import type { PipelineLimits } from "../../../core/dag/mod.ts";
import { ErrorName } from "../../../core/errors.ts";
import type { Logger } from "../../../core/log.ts";
import type { ScheduleOutcome, ScheduleRecord } from "../../../core/protocol/mod.ts";
import type { Registry } from "../registry.ts";
import { type PipelineService, ServiceError } from "../pipelines/service.ts";
import type { CronTimes } from "./cron.ts";
import { readSchedule } from "./schedule_spec.ts";
import { ScheduleStore, type StoredSchedule } from "./schedule_store.ts";
import type { PipelineStore } from "../store.ts";

/** The timer wakes at least this often, so that a change of the wall clock is seen, ms. */
const MAX_SLEEP_MS = 60_000;

/** What the schedules need. */
export interface ScheduleDeps {
  store: PipelineStore;
  service: PipelineService;
  registry: Registry;
  log: Logger;
  /** Runs a task as a hub batch (committed before anything it queued is sent). */
  batch: (task: () => void) => void;
  limits?: Partial<PipelineLimits>;
  /** Schedules kept at most; more are refused. Default 1,000. */
  maxSchedules?: number;
}

interface Entry extends StoredSchedule {
  times: CronTimes;
  /** The next tick to wake for, epoch ms. */
  nextAt: number | undefined;
}

/** The Router's schedules. */
export class Schedules {
  readonly #deps: ScheduleDeps;
  readonly #store: ScheduleStore;
  readonly #entries = new Map<string, Entry>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(deps: ScheduleDeps) {
    this.#deps = deps;
    this.#store = new ScheduleStore(deps.store);
  }

  /**
   * Loads the stored schedules and fires each one's latest missed tick, if it has one
   * (call in a batch, after the pipelines not ended were resumed); then arms the timer.
   */
  start(): void {
    const now = Date.now();
    for (const stored of this.#store.all()) {
      // Stored valid; compiled again with today's croner and time zone data.
      const compiled = compileStored(stored);
      if (!compiled) {
        this.#deps.log.error("Schedule {id} no longer compiles; it is not run", {
          id: stored.spec.id,
        });
        continue;
      }
      this.#entries.set(stored.spec.id, { ...stored, times: compiled, nextAt: undefined });
    }
    this.#due(now);
  }

  /** Stops the timer; no tick fires after this. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Schedules kept. */
  get size(): number {
    return this.#entries.size;
  }

  /** Every schedule, by id, with its next tick. */
  list(): ScheduleRecord[] {
    return [...this.#entries.values()].sort((a, b) => a.spec.id < b.spec.id ? -1 : 1).map(view);
  }

  /**
   * One schedule.
   *
   * @throws {ServiceError} `ScheduleNotFoundError`.
   */
  get(id: string): ScheduleRecord {
    return view(this.#entry(id));
  }

  /**
   * Creates a schedule; its first tick is the first after now.
   *
   * @throws {ScheduleValidationError} listing every problem; nothing is stored.
   * @throws {ServiceError} `ScheduleExistsError`, `TooManySchedulesError`.
   */
  create(body: unknown): ScheduleRecord {
    const { spec, times } = this.#read(body);
    if (this.#entries.has(spec.id)) {
      throw new ServiceError(
        ErrorName.ScheduleExists,
        `Schedule "${spec.id}" exists already: replace it with a put`,
      );
    }
    return this.#keep({ spec, times }, undefined);
  }

  /**
   * Creates or replaces the schedule `id`. A replaced one keeps its last tick and
   * pipeline (for `overlap`), and owes no tick from before the put.
   *
   * @throws {ScheduleValidationError} listing every problem; nothing is stored.
   * @throws {ServiceError} `TooManySchedulesError` when it is new and there are too many.
   */
  put(id: string, body: unknown): { schedule: ScheduleRecord; created: boolean } {
    const valid = this.#read(body, id);
    const old = this.#entries.get(id);
    return { schedule: this.#keep(valid, old), created: !old };
  }

  /**
   * Deletes a schedule; the pipelines it started go on.
   *
   * @throws {ServiceError} `ScheduleNotFoundError`.
   */
  delete(id: string): { id: string; deleted: true } {
    this.#entry(id);
    this.#entries.delete(id);
    this.#store.delete(id);
    this.#arm();
    return { id, deleted: true };
  }

  #read(body: unknown, id?: string) {
    const runnable = this.#deps.registry.runnable();
    const known = this.#deps.service.known;
    return readSchedule(body, {
      id,
      // As a submit is checked, but a function whose brokers are away for now is fine.
      knownFunctions: { has: (fn) => runnable.has(fn) || known.expected(fn) },
      limits: this.#deps.limits,
    });
  }

  #keep(valid: ReturnType<typeof readSchedule>, old: Entry | undefined): ScheduleRecord {
    const max = this.#deps.maxSchedules ?? 1000;
    if (!old && this.#entries.size >= max) {
      throw new ServiceError(
        ErrorName.TooManySchedules,
        `There are ${this.#entries.size} schedules, the limit is ${max}`,
      );
    }
    const now = Date.now();
    const entry: Entry = {
      spec: valid.spec,
      times: valid.times,
      createdAt: old?.createdAt ?? now,
      updatedAt: now,
      handledUntil: Math.max(old?.handledUntil ?? now, now),
      ...(old?.lastTick ? { lastTick: old.lastTick } : {}),
      ...(old?.lastPipeline ? { lastPipeline: old.lastPipeline } : {}),
      nextAt: undefined,
    };
    entry.nextAt = entry.times.next(entry.handledUntil);
    this.#entries.set(entry.spec.id, entry);
    this.#store.put(entry);
    this.#arm();
    return view(entry);
  }

  #entry(id: string): Entry {
    const entry = this.#entries.get(id);
    if (!entry) throw new ServiceError(ErrorName.ScheduleNotFound, `Schedule "${id}" not found`);
    return entry;
  }

  /** Fires each schedule's latest tick at or before `now` not handled yet; re-arms. */
  #due(now: number): void {
    for (const entry of this.#entries.values()) {
      if (entry.nextAt !== undefined && entry.nextAt > now) continue;
      const at = entry.times.latest(now);
      if (at !== undefined && at > entry.handledUntil) this.#fire(entry, at);
      entry.nextAt = entry.times.next(Math.max(now, entry.handledUntil));
    }
    this.#arm();
  }

  #fire(entry: Entry, at: number): void {
    const { service, log } = this.#deps;
    const id = entry.spec.id;
    let outcome: ScheduleOutcome;
    if (entry.spec.overlap === "skip" && this.#stillRunning(entry.lastPipeline)) {
      outcome = { at, outcome: "skipped", pipelineId: entry.lastPipeline };
      log.info("Schedule {id} skipped its tick: pipeline {pipelineId} has not ended", {
        id,
        pipelineId: entry.lastPipeline,
      });
    } else {
      try {
        const { pipelineId } = service.submit(entry.spec.pipeline, { schedule: { id, at } });
        outcome = { at, outcome: "started", pipelineId };
        entry.lastPipeline = pipelineId;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        outcome = { at, outcome: "failed", error: message.slice(0, 2000) };
        log.warn("Schedule {id} could not start its pipeline: {error}", { id, error: message });
      }
    }
    entry.handledUntil = at;
    entry.lastTick = outcome;
    this.#store.tick(entry);
  }

  #stillRunning(pipelineId: string | undefined): boolean {
    if (pipelineId === undefined) return false;
    try {
      const status = this.#deps.service.get(pipelineId).status;
      return status === "queued" || status === "running";
    } catch {
      return false; // Pruned: it ended long ago.
    }
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped) return;
    let next = Infinity;
    for (const entry of this.#entries.values()) {
      if (entry.nextAt !== undefined && entry.nextAt < next) next = entry.nextAt;
    }
    if (next === Infinity) return;
    const delay = Math.min(Math.max(0, next - Date.now()), MAX_SLEEP_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#deps.batch(() => this.#due(Date.now()));
    }, delay);
  }
}

function compileStored(stored: StoredSchedule): CronTimes | undefined {
  try {
    return readSchedule({ ...stored.spec }).times;
  } catch {
    return undefined;
  }
}

function view(entry: Entry): ScheduleRecord {
  const record: ScheduleRecord = {
    ...entry.spec,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
  };
  if (entry.nextAt !== undefined) record.nextRunAt = entry.nextAt;
  if (entry.lastTick) record.lastTick = entry.lastTick;
  return record;
}
