/**
 * One life of a Router on PostgreSQL: standby until it takes the lease, then active,
 * and fenced for good once it loses it. A standby serves HTTP (`/health` answers 503 with its
 * role and the active's endpoint) and binds no ZeroMQ socket, so peers reach the
 * active one only. On taking the lease it loads PostgreSQL's rows into a fresh SQLite
 * working copy, resumes every pipeline not yet ended (as a restart on SQLite does)
 * and binds. A fenced Router halts at once: no batch runs, its sockets close, and
 * `fenced` resolves (`startRejoining` then starts a new one, as a standby).
 *
 * @module
 */
import { toErrorData } from "../../core/errors.ts";
import { abortableDelay } from "../../core/timers.ts";
import { getLogger } from "../../core/log.ts";
import { serve } from "../http/serve.ts";
import { type ActiveRouter, runActive } from "../active_router.ts";
import { checkRouterConfig } from "../exposure.ts";
import { PipelineStore } from "../hub/store.ts";
import type { RouterConfig, RouterHandle } from "../mod.ts";
import { PostgresCommits } from "./commits.ts";
import { Lease } from "./lease.ts";
import { connect, migrate } from "./pg_schema.ts";
import { PgSession } from "./pg_session.ts";
import { loadWorkingCopy } from "./working_copy.ts";

/** Settings of a Router on PostgreSQL. */
export interface ReplicatedConfig extends RouterConfig {
  /** `postgres://user:pass@host:port/db`. */
  store: string;
  /** How long a lease renewal holds, ms (renewed every fifth of it). Default 5,000. */
  leaseMs?: number;
  /**
   * The request endpoint peers reach this Router at, as standbys report it (when `api`
   * binds a wildcard such as `tcp://0.0.0.0:5555`). Default: `api`.
   */
  advertise?: string;
}

/** Where a Router on PostgreSQL is. */
export type Role = "standby" | "active" | "fenced" | "stopped";

/** A Router on PostgreSQL. */
export interface ReplicatedRouter {
  readonly role: Role;
  /** The HTTP address bound, when HTTP is on. */
  readonly http?: string;
  /** Resolves with the running Router once this one is active. */
  readonly active: Promise<RouterHandle>;
  /** Resolves, with why, when this Router lost its lease and halted. */
  readonly fenced: Promise<string>;
  /** Stops: a standby stops waiting; an active one stops and gives its lease back. */
  stop(): Promise<void>;
}

/**
 * Starts a Router on PostgreSQL: migrates the schema (under a lock), serves HTTP, and
 * waits for the lease in the background. `patient`: PostgreSQL may be away; the
 * standby serves HTTP at once and migrates once it can.
 *
 * @throws {Error} when PostgreSQL cannot be reached or migrated (unless patient), or
 *   as `start` does.
 */
export async function startReplicated(
  config: ReplicatedConfig,
  options: { patient?: boolean } = {},
): Promise<ReplicatedRouter> {
  const log = getLogger("router");
  checkRouterConfig(config, log);
  const ttlMs = config.leaseMs ?? 5_000;
  const api = config.api ?? "tcp://127.0.0.1:5555";
  const holder = `router-${Deno.hostname()}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  // The lease has a session of its own: a long mirror transaction does not hold it up.
  const db = new PgSession((name) => connect(config.store, 1, name));
  const leaseDb = new PgSession((name) => connect(config.store, 1, name));
  const closeSql = () => Promise.all([db.end(), leaseDb.end()]);
  const migrated = async () => {
    const applied = await migrate(db.sql);
    if (applied.length) log.info("PostgreSQL schema migrated to {versions}", { versions: applied });
  };
  if (!options.patient) {
    try {
      await migrated();
    } catch (error) {
      await closeSql();
      throw error;
    }
  }
  const endpoint = config.advertise ?? api;
  const lease = new Lease(leaseDb, { holder, endpoint, ttlMs, log });
  let role: Role = "standby";
  let running: ActiveRouter | undefined;
  const fenced = Promise.withResolvers<string>();
  const waiting = new AbortController();

  const fence = (reason: string) => {
    if (role === "fenced" || role === "stopped") return;
    role = "fenced";
    log.fatal("Fenced, acting no more: {reason}", { reason });
    commits.fence(reason);
    void running?.halt().catch(() => {});
    fenced.resolve(reason);
  };
  const commits = new PostgresCommits(db, lease, log, fence);
  // So that a standby's first /health already names the active.
  await lease.look().catch(() => {});

  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    server = config.http === "off" ? undefined : serve(
      {
        // The lease is checked first: a Router whose timers ran late answers nothing as active.
        fetch: (request) =>
          role === "active" && running && commits.mayAct()
            ? running.handle.app.fetch(request)
            : notActive(request, role, lease.view.active),
      },
      config.http ?? "127.0.0.1:8080",
      log,
    );
  } catch (error) {
    await closeSql();
    throw error;
  }

  const active = (async (): Promise<RouterHandle> => {
    // Patient: PostgreSQL may be away for now; this standby waits for it, answering 503.
    while (options.patient) {
      try {
        await migrated();
        break;
      } catch (error) {
        log.warn("PostgreSQL not reachable, waiting for it: {error}", {
          error: toErrorData(error).message,
        });
        await abortableDelay(500, waiting.signal);
        if (waiting.signal.aborted) throw waiting.signal.reason;
      }
    }
    const epoch = await lease.acquire(waiting.signal);
    lease.keep(fence);
    const startedAt = performance.now();
    const dataDir = config.dataDir ?? ".pipelinin";
    // A read that stops coming (a connection gone silent) must not leave this Router
    // holding the lease without acting: past the TTL with no chunk, it gives up (fenced,
    // it starts again as a standby).
    const rows = await db.watched(
      Math.max(2_000, ttlMs),
      (sql, alive) => loadWorkingCopy(sql, `${dataDir}/working`, alive),
    );
    // The load took a while, and resuming blocks the timers: renew first, and the lease
    // must still be ours before anything binds.
    if (!(await lease.renewNow()) || !commits.mayAct()) {
      throw new Error("The lease was lost while loading the state");
    }
    const store = PipelineStore.open(`${dataDir}/working`, { maxLogChars: config.maxLogChars });
    running = runActive(config, {
      store,
      log,
      mirror: commits,
      noHttp: true,
      tablesReady: (opened) => commits.attach(opened),
    });
    if (role !== "standby") {
      await running.halt();
      throw new Error(`The Router is ${role}`);
    }
    role = "active";
    log.info("Active with lease epoch {epoch}: loaded {rows} rows in {ms} ms", {
      epoch,
      rows,
      ms: Math.round(performance.now() - startedAt),
    });
    return running.handle;
  })();
  active.catch((error) => {
    if (waiting.signal.aborted) return;
    log.fatal("Could not become active: {error}", { error: toErrorData(error).message });
    fence(toErrorData(error).message);
  });

  let stopping: Promise<void> | undefined;
  return {
    get role() {
      return role;
    },
    http: server ? `${server.addr.hostname}:${server.addr.port}` : undefined,
    active,
    fenced: fenced.promise,
    stop() {
      stopping ??= (async () => {
        waiting.abort(new Error("The Router stopped"));
        const wasActive = role === "active";
        role = "stopped";
        await server?.shutdown();
        if (running) await (wasActive ? running.handle.stop() : running.halt());
        // What the last batches committed reaches PostgreSQL before a standby may load it.
        await commits.idle();
        if (wasActive) await lease.release().catch(() => {});
        lease.stop();
        await closeSql();
      })();
      return stopping;
    },
  };
}

/** What a Router that is not active answers: 503, with its role and the active's endpoint. */
function notActive(request: Request, role: Role, active: string | null): Response {
  const path = new URL(request.url).pathname;
  const body = path === "/health"
    ? { status: "unavailable", role, active }
    : { error: `This Router is ${role}, not the active one`, name: "NotActiveError", role, active };
  return Response.json(body, { status: 503, headers: { "Retry-After": "1" } });
}
