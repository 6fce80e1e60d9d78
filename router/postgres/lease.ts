/**
 * The active Router's lease: one row, `router_lease`, renewed by the active on the
 * database's clock and taken over by a standby once it expired, with `epoch + 1` in
 * one conditional UPDATE (two standbys cannot both win). Every mirror transaction
 * checks the row still names this holder and epoch (see `StoreMirror`): that is the
 * fence a paused old active runs into. Locally, the lease counts as held only until
 * a TTL after the last renewal that succeeded was *sent* (monotonic clock), so a
 * Router whose timers were late (SIGSTOP, then SIGCONT) finds its lease gone before
 * it sends anything. Every call has a deadline (`PgSession`): a renewal that gets no
 * answer is sent again at once on a new client.
 *
 * @module
 */
import type { Logger } from "../../core/log.ts";
import { toErrorData } from "../../core/errors.ts";
import { abortableDelay } from "../../core/timers.ts";
import { type PgSession, StalledError } from "./pg_session.ts";

/** Options of a {@linkcode Lease}. */
export interface LeaseOptions {
  /** Who this Router is (unique per process). */
  holder: string;
  /** What standbys report as the active's endpoint. */
  endpoint: string;
  /** How long a renewal holds, ms. */
  ttlMs: number;
  log: Logger;
}

/** What a standby saw of the lease. */
export interface LeaseView {
  /** The active's endpoint, or null when none holds a live lease. */
  active: string | null;
  epoch: number;
}

/** Part of the TTL the lease counts as held locally: a margin for clocks that drift. */
const LOCAL_SHARE = 0.8;

/** The lease, as one Router holds it or waits for it. */
export class Lease {
  readonly #db: PgSession;
  readonly #options: LeaseOptions;
  #epoch = 0;
  /** When (monotonic ms) the last renewal that succeeded was sent. */
  #renewedAt = -Infinity;
  #timer: ReturnType<typeof setInterval> | undefined;
  #renewing = false;
  #lost: ((reason: string) => void) | undefined;
  #view: LeaseView = { active: null, epoch: 0 };

  constructor(db: PgSession, options: LeaseOptions) {
    this.#db = db;
    this.#options = options;
  }

  /** The epoch this Router holds (0 before it took the lease). */
  get epoch(): number {
    return this.#epoch;
  }

  /** Who holds the lease, as last seen while waiting. */
  get view(): LeaseView {
    return this.#view;
  }

  /** How long a renewal holds, ms. */
  get ttlMs(): number {
    return this.#options.ttlMs;
  }

  get holder(): string {
    return this.#options.holder;
  }

  /** Whether the lease is still held as far as this Router can know, now. */
  held(): boolean {
    return this.#epoch > 0 && performance.now() - this.#renewedAt < this.#ttlLocal;
  }

  get #ttlLocal(): number {
    return this.#options.ttlMs * LOCAL_SHARE;
  }

  /** Polls until this Router takes the lease (or `signal` aborts); returns its epoch. */
  async acquire(signal: AbortSignal): Promise<number> {
    const pollMs = Math.max(50, Math.floor(this.#options.ttlMs / 5));
    while (!signal.aborted) {
      try {
        if (await this.#tryTake()) return this.#epoch;
      } catch (error) {
        this.#options.log.warn("Could not read the Router lease: {error}", {
          error: toErrorData(error).message,
        });
      }
      await abortableDelay(pollMs, signal);
    }
    throw signal.reason ?? new Error("Stopped waiting for the lease");
  }

  /** Reads who holds the lease now, into {@linkcode view}. */
  async look(): Promise<{ epoch: number; live: boolean }> {
    const [seen] = await this.#db.within(
      this.#options.ttlMs,
      (sql) =>
        sql<{ epoch: number; endpoint: string | null; live: boolean }[]>`
        SELECT epoch, endpoint, expires_at > now() AS live FROM router_lease WHERE id = 1`,
    );
    if (!seen) throw new Error("The lease row is missing");
    this.#view = { active: seen.live ? seen.endpoint : null, epoch: seen.epoch };
    return seen;
  }

  async #tryTake(): Promise<boolean> {
    const { holder, endpoint, ttlMs } = this.#options;
    const sentAt = performance.now();
    const seen = await this.look();
    if (seen.live) return false;
    const taken = await this.#db.within(ttlMs, (sql) =>
      sql<{ epoch: number }[]>`
        UPDATE router_lease SET holder = ${holder}, epoch = epoch + 1, endpoint = ${endpoint},
          expires_at = now() + ${ttlMs} * interval '1 millisecond'
        WHERE id = 1 AND epoch = ${seen.epoch} AND expires_at <= now()
        RETURNING epoch`);
    if (!taken[0]) return false;
    this.#epoch = taken[0].epoch;
    this.#renewedAt = sentAt;
    return true;
  }

  /** Renews every fifth of the TTL; `lost` is called once when the lease is gone. */
  keep(lost: (reason: string) => void): void {
    this.#lost = lost;
    const everyMs = Math.max(20, Math.floor(this.#options.ttlMs / 5));
    this.#timer = setInterval(() => this.#tick(), everyMs);
  }

  /** Checks the lease locally; calls `lost` (once) when it is past its local TTL. */
  check(): boolean {
    if (this.held()) return true;
    this.#lose(`the lease was last renewed more than ${Math.round(this.#ttlLocal)} ms ago`);
    return false;
  }

  #tick(): void {
    if (!this.check() || this.#renewing) return;
    this.#renewing = true;
    void this.#renew().then((renewed) => {
      this.#renewing = false;
      if (!renewed) this.#lose("another Router took the lease");
    }, (error) => {
      this.#renewing = false;
      this.#options.log.warn("Could not renew the Router lease: {error}", {
        error: toErrorData(error).message,
      });
      // A stalled renewal is sent again at once, on the new client: waiting for the
      // next tick would leave too little of the lease.
      if (error instanceof StalledError) this.#tick();
    });
  }

  /**
   * One renewal; true when it held. The renewal counts from when it was sent: the
   * database's expiry is at least that far ahead. A renewal gets two ticks to
   * answer, so that one sent again after a stall still lands in the local TTL.
   */
  async #renew(): Promise<boolean> {
    const sentAt = performance.now();
    const { holder, ttlMs } = this.#options;
    const epoch = this.#epoch;
    const rows = await this.#db.within(Math.max(200, Math.floor(ttlMs * 0.4)), (sql) =>
      sql`
        UPDATE router_lease SET expires_at = now() + ${ttlMs} * interval '1 millisecond'
        WHERE id = 1 AND holder = ${holder} AND epoch = ${epoch} RETURNING epoch`);
    if (rows.length !== 1) return false;
    this.#renewedAt = Math.max(this.#renewedAt, sentAt);
    return true;
  }

  /**
   * Renews now, before a long synchronous step (resuming a large state blocks the
   * timers). True when renewed; false when the lease is gone (and `lost` was called).
   */
  async renewNow(): Promise<boolean> {
    if (await this.#renew()) return true;
    this.#lose("another Router took the lease");
    return false;
  }

  /** Gives the lease back (a clean stop): a standby takes over at its next poll. */
  async release(): Promise<void> {
    this.stop();
    if (this.#epoch === 0) return;
    const epoch = this.#epoch;
    this.#epoch = 0;
    await this.#db.within(
      this.#options.ttlMs,
      (sql) =>
        sql`UPDATE router_lease SET expires_at = '-infinity'
        WHERE id = 1 AND holder = ${this.#options.holder} AND epoch = ${epoch}`,
    );
  }

  /** Stops renewing (the lease then expires on its own). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#lost = undefined;
  }

  #lose(reason: string): void {
    const lost = this.#lost;
    this.#epoch = 0;
    this.stop();
    lost?.(reason);
  }
}
