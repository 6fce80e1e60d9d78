/**
 * A Router on PostgreSQL that comes back as a standby after it was fenced, by itself:
 * each life is a {@linkcode startReplicated} (standby, then active, then fenced), and
 * a fenced one is stopped and a new one started, after a back-off. So a lone Router
 * rides out a PostgreSQL outage longer than its lease: it halts (nothing more is
 * acknowledged), waits for the database, takes the lease again and loads its state
 * from PostgreSQL, as any standby would. A paused old active that resumes becomes a
 * standby of the new one. No supervisor is needed, and none is harmed: the process
 * exits only when stopped.
 *
 * @module
 */
import { toErrorData } from "../../core/errors.ts";
import { getLogger } from "../../core/log.ts";
import { abortableDelay } from "../../core/timers.ts";
import type { RouterHandle } from "../mod.ts";
import {
  type ReplicatedConfig,
  type ReplicatedRouter,
  type Role,
  startReplicated,
} from "./replicated.ts";

/** The first wait before a new life, ms; it doubles up to {@linkcode MAX_BACK_OFF_MS}. */
const FIRST_BACK_OFF_MS = 250;
const MAX_BACK_OFF_MS = 10_000;
/** A life active this long resets the back-off. */
const STEADY_MS = 30_000;

/** A Router on PostgreSQL that starts again as a standby each time it is fenced. */
export interface RejoiningRouter {
  /** The current life's role ("fenced" between a fence and the next life). */
  readonly role: Role;
  /** Resolves with the running Router the first time a life is active. */
  readonly active: Promise<RouterHandle>;
  /** Stops the current life (an active one gives its lease back) and starts no other. */
  stop(): Promise<void>;
}

/**
 * Starts a Router on PostgreSQL that comes back as a standby after each fence.
 *
 * @throws {Error} as {@linkcode startReplicated} does for the first life (a config
 * error, PostgreSQL unreachable at start): later lives retry such errors.
 */
export async function startRejoining(config: ReplicatedConfig): Promise<RejoiningRouter> {
  const log = getLogger("router");
  let life: ReplicatedRouter | undefined = await startReplicated(config);
  let stopped = false;
  const halted = new AbortController();
  const firstActive = Promise.withResolvers<RouterHandle>();
  firstActive.promise.catch(() => {}); // Stopped before any life was active.
  const watch = (current: ReplicatedRouter) => {
    current.active.then(firstActive.resolve, () => {});
  };
  watch(life);

  const loop = (async () => {
    let backOff = FIRST_BACK_OFF_MS;
    while (!stopped) {
      const current: ReplicatedRouter = life!;
      let activeSince: number | undefined;
      current.active.then(() => activeSince = performance.now(), () => {});
      const reason = await Promise.race([current.fenced, aborted(halted.signal)]);
      if (stopped || reason === undefined) return;
      await current.stop().catch(() => {});
      life = undefined;
      // A life that held the lease a good while was not a crash loop: start again soon.
      if (activeSince !== undefined && performance.now() - activeSince > STEADY_MS) {
        backOff = FIRST_BACK_OFF_MS;
      }
      while (!stopped && !life) {
        log.warn("Starting again as a standby in {ms} ms", { ms: backOff });
        await abortableDelay(backOff, halted.signal);
        backOff = Math.min(backOff * 2, MAX_BACK_OFF_MS);
        if (stopped) return;
        try {
          life = await startReplicated(config, { patient: true });
          watch(life);
        } catch (error) {
          log.warn("Could not start again: {error}", { error: toErrorData(error).message });
        }
      }
    }
  })();

  return {
    get role() {
      return life?.role ?? "fenced";
    },
    active: firstActive.promise,
    async stop() {
      if (!stopped) {
        stopped = true;
        halted.abort();
        firstActive.reject(new Error("The Router stopped"));
      }
      await loop;
      await life?.stop();
    },
  };
}

/** Resolves with undefined once `signal` aborts. */
function aborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    signal.addEventListener("abort", () => resolve(undefined), { once: true });
  });
}
