/**
 * Counters the Router keeps for `/metrics` (Prometheus text format) and `/stats`
 * (the dashboard's jobs-per-second chart).
 *
 * @module
 */

import type { AttemptOutcome } from "../hub/pipelines/attempts.ts";
import type { MirrorStats } from "../hub/hub.ts";
import type { LimitView } from "../hub/scheduler.ts";
import { FunctionRates } from "./function_rates.ts";

/** Upper bounds of the job duration histogram, ms. */
const BUCKETS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000];
/** Width of one throughput bucket, ms. */
const RATE_BUCKET_MS = 5000;
/** How many throughput buckets are kept (10 minutes). */
const RATE_BUCKETS = 120;

/** A gauge or counter read at scrape time. */
export interface Snapshot {
  /** Queued job attempts by function, then priority. */
  queuedByPriority: Record<string, Record<number, number>>;
  /** Functions with limits, and what waits on them. */
  limits: LimitView[];
  /** Functions the brokers serve: each gets a queue gauge, 0 when none waits. */
  functions: readonly string[];
  /** Per function with attempts waiting: how many, and since when the oldest waits. */
  queued: ReadonlyMap<string, { depth: number; oldestAt: number }>;
  /** When the scrape is, epoch ms. */
  now: number;
  pipelinesByStatus: Record<string, number>;
  queueDepth: number;
  brokers: number;
  pipeliners: number;
  busySlots: number;
  slots: number;
  protocolErrors: number;
  /** The PostgreSQL mirror's figures, on that store. */
  mirror?: MirrorStats;
}

/** Job counters and the duration histogram. */
export class Metrics {
  readonly #jobs = new Map<string, number>();
  readonly #histogram = new Map<string, { buckets: number[]; sum: number; count: number }>();
  readonly #rates: Array<{ at: number; jobs: number }> = [];
  readonly #attempts = new Map<string, number>();
  /** Per-function rates over the last minutes, for the dashboard. */
  readonly functionRates = new FunctionRates();
  #lateResults = 0;

  /** Records how one attempt ended. */
  attemptEnded(fn: string, outcome: AttemptOutcome, now = Date.now()): void {
    const key = `${fn}\u0000${outcome}`;
    this.#attempts.set(key, (this.#attempts.get(key) ?? 0) + 1);
    this.functionRates.record(fn, outcome, now);
  }

  /** Records one result ignored as late or duplicate. */
  lateResult(): void {
    this.#lateResults++;
  }

  /** Records one finished attempt. */
  jobFinished(fn: string, status: string, durationMs: number, now = Date.now()): void {
    const key = `${fn}\u0000${status}`;
    this.#jobs.set(key, (this.#jobs.get(key) ?? 0) + 1);
    const h = this.#histogram.get(fn) ?? { buckets: BUCKETS_MS.map(() => 0), sum: 0, count: 0 };
    BUCKETS_MS.forEach((bound, i) => {
      if (durationMs <= bound) h.buckets[i]!++;
    });
    h.sum += durationMs;
    h.count++;
    this.#histogram.set(fn, h);
    const at = now - (now % RATE_BUCKET_MS);
    const last = this.#rates.at(-1);
    if (last && last.at === at) last.jobs++;
    else {
      this.#rates.push({ at, jobs: 1 });
      if (this.#rates.length > RATE_BUCKETS) this.#rates.shift();
    }
  }

  /** Jobs per second in 5 s buckets over the last 10 minutes, gaps filled with 0. */
  jobsPerSecond(now = Date.now()): Array<{ at: number; rate: number }> {
    const end = now - (now % RATE_BUCKET_MS);
    const byAt = new Map(this.#rates.map((r) => [r.at, r.jobs]));
    const out: Array<{ at: number; rate: number }> = [];
    for (let i = RATE_BUCKETS - 1; i >= 0; i--) {
      const at = end - i * RATE_BUCKET_MS;
      out.push({ at, rate: (byAt.get(at) ?? 0) / (RATE_BUCKET_MS / 1000) });
    }
    return out;
  }

  /** The Prometheus text exposition of everything. */
  prometheus(snapshot: Snapshot): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    /** A metric of one series, with no labels. */
    const single = (name: string, type: string, help: string, value: number) => {
      metric(name, type, help);
      lines.push(`${name} ${value}`);
    };
    const label = (value: string) =>
      value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
    metric("pipelinin_pipelines", "gauge", "Pipelines in the store by status.");
    for (const status of ["queued", "running", "succeeded", "failed", "cancelled"]) {
      lines.push(
        `pipelinin_pipelines{status="${status}"} ${snapshot.pipelinesByStatus[status] ?? 0}`,
      );
    }
    metric("pipelinin_jobs_total", "counter", "Finished job attempts by function and status.");
    for (const [key, count] of this.#jobs) {
      const [fn, status] = key.split("\u0000");
      lines.push(`pipelinin_jobs_total{function="${label(fn!)}",status="${status}"} ${count}`);
    }
    metric(
      "pipelinin_attempts_total",
      "counter",
      "Job attempts that ended, by function and outcome (succeeded, failed, timed_out, crashed, cancelled, lost).",
    );
    for (const [key, count] of this.#attempts) {
      const [fn, outcome] = key.split("\u0000");
      lines.push(
        `pipelinin_attempts_total{function="${label(fn!)}",outcome="${outcome}"} ${count}`,
      );
    }
    const queuedFns = [...new Set([...snapshot.functions, ...snapshot.queued.keys()])].sort();
    metric(
      "pipelinin_queue_oldest_age_seconds",
      "gauge",
      "How long the oldest ready job attempt of a function has waited for a slot; 0 when none waits.",
    );
    for (const fn of queuedFns) {
      const at = snapshot.queued.get(fn)?.oldestAt;
      const age = at === undefined ? 0 : Math.max(0, snapshot.now - at) / 1000;
      lines.push(`pipelinin_queue_oldest_age_seconds{function="${label(fn)}"} ${age}`);
    }
    metric("pipelinin_job_duration_seconds", "histogram", "Run time of job attempts.");
    for (const [fn, h] of this.#histogram) {
      const f = label(fn);
      BUCKETS_MS.forEach((bound, i) => {
        lines.push(
          `pipelinin_job_duration_seconds_bucket{function="${f}",le="${bound / 1000}"} ${
            h.buckets[i]
          }`,
        );
      });
      lines.push(`pipelinin_job_duration_seconds_bucket{function="${f}",le="+Inf"} ${h.count}`);
      lines.push(`pipelinin_job_duration_seconds_sum{function="${f}"} ${h.sum / 1000}`);
      lines.push(`pipelinin_job_duration_seconds_count{function="${f}"} ${h.count}`);
    }
    single(
      "pipelinin_late_results_total",
      "counter",
      "Job results ignored: from a broker declared lost, of an attempt no longer expected, or sent twice.",
      this.#lateResults,
    );
    single(
      "pipelinin_queue_depth",
      "gauge",
      "Ready job attempts waiting for a broker slot.",
      snapshot.queueDepth,
    );
    metric(
      "pipelinin_queued_jobs",
      "gauge",
      "Ready job attempts waiting, by function and priority.",
    );
    // Every known function has a row, 0 at priority 0 when none waits, so a rate or an
    // alert over it does not see the series vanish.
    for (const fn of [...new Set([...queuedFns, ...Object.keys(snapshot.queuedByPriority)])]) {
      const counts = snapshot.queuedByPriority[fn] ?? { 0: 0 };
      for (const [priority, n] of Object.entries(counts)) {
        lines.push(`pipelinin_queued_jobs{function="${label(fn)}",priority="${priority}"} ${n}`);
      }
    }
    metric(
      "pipelinin_jobs_waiting_on_limit",
      "gauge",
      "Queued job attempts that their function's concurrency or rate limit holds back.",
    );
    for (const view of snapshot.limits) {
      lines.push(`pipelinin_jobs_waiting_on_limit{function="${label(view.fn)}"} ${view.waiting}`);
    }
    metric("pipelinin_limited_jobs_running", "gauge", "Attempts running under a function's limit.");
    for (const view of snapshot.limits) {
      lines.push(`pipelinin_limited_jobs_running{function="${label(view.fn)}"} ${view.running}`);
    }
    single("pipelinin_brokers", "gauge", "Brokers connected.", snapshot.brokers);
    single("pipelinin_pipeliners", "gauge", "Pipeliners connected.", snapshot.pipeliners);
    single("pipelinin_slots", "gauge", "Worker slots of connected brokers.", snapshot.slots);
    single("pipelinin_slots_busy", "gauge", "Worker slots running a job.", snapshot.busySlots);
    single(
      "pipelinin_protocol_errors_total",
      "counter",
      "Malformed ZeroMQ messages received.",
      snapshot.protocolErrors,
    );
    const mirror = snapshot.mirror;
    if (mirror) {
      single(
        "pipelinin_store_mirror_commits_total",
        "counter",
        "PostgreSQL mirror transactions.",
        mirror.commits,
      );
      single(
        "pipelinin_store_mirror_retries_total",
        "counter",
        "PostgreSQL mirror transactions that failed or stalled and were sent again.",
        mirror.retries,
      );
      single(
        "pipelinin_store_mirror_clients_replaced_total",
        "counter",
        "Mirror clients given up on after a transaction got no answer in time.",
        mirror.clientsReplaced,
      );
      single(
        "pipelinin_store_mirror_lag_seconds",
        "gauge",
        "How long the oldest change not yet in PostgreSQL has waited (its answers wait too).",
        mirror.lagMs / 1000,
      );
    }
    return lines.join("\n") + "\n";
  }
}
