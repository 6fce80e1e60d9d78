/**
 * The lease and the migrations on a real PostgreSQL, in-process: Routers starting
 * together migrate once, two standbys never both take an expired lease, and a
 * holder whose renewals stop is no longer held (by the monotonic clock) before the
 * database lets another take over.
 */
import { assert, assertEquals } from "./_assert.ts";
import { getLogger } from "../core/log.ts";
import { TempPostgres } from "./_postgres.ts";
import { Lease } from "../router/postgres/lease.ts";
import { mayPass } from "../router/postgres/mirror.ts";
import { connect, migrate } from "../router/postgres/pg_schema.ts";
import { PgSession } from "../router/postgres/pg_session.ts";

const log = getLogger("router");

async function withSessions(
  n: number,
  fn: (pg: TempPostgres, sessions: PgSession[]) => Promise<void>,
): Promise<void> {
  await using pg = await TempPostgres.start();
  const sessions = Array.from(
    { length: n },
    () => new PgSession((name) => connect(pg.url, 1, name)),
  );
  try {
    await fn(pg, sessions);
  } finally {
    await Promise.all(sessions.map((session) => session.end()));
  }
}

Deno.test("Routers starting together migrate the schema once", () =>
  withSessions(4, async (_pg, sessions) => {
    const applied = await Promise.all(sessions.map((session) => migrate(session.sql)));
    assertEquals(applied.flat(), [1], "each migration applied by one Router only");
    const rows = await sessions[0]!.sql<
      { version: number }[]
    >`SELECT version FROM schema_migrations`;
    assertEquals(rows.map((row) => row.version), [1]);
    const lease = await sessions[0]!.sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM router_lease`;
    assertEquals(lease[0]?.n, 1);
  }));

Deno.test("of two standbys polling an expired lease, one takes it and the other keeps waiting", () =>
  withSessions(2, async (_pg, [one, two]) => {
    await migrate(one!.sql);
    const waiting = new AbortController();
    const leases = [one!, two!].map((session, i) =>
      new Lease(session, { holder: `standby-${i}`, endpoint: `tcp://r${i}:5555`, ttlMs: 2000, log })
    );
    const taken = leases.map((lease) =>
      lease.acquire(waiting.signal).then((epoch) => ({ lease, epoch }))
    );
    const winner = await Promise.race(taken);
    assertEquals(winner.epoch, 1);
    // The loser sees the winner as active while the lease is renewed.
    winner.lease.keep(() => {});
    const loser = leases.find((lease) => lease !== winner.lease)!;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assertEquals(loser.epoch, 0);
    assertEquals(loser.view.active, winner.lease === leases[0] ? "tcp://r0:5555" : "tcp://r1:5555");
    waiting.abort();
    const settled = await Promise.allSettled(taken);
    assertEquals(settled.filter((s) => s.status === "fulfilled").length, 1);
    winner.lease.stop();
  }));

Deno.test("a holder that stops renewing stops holding, locally, before another may take the lease", () =>
  withSessions(2, async (_pg, [one, two]) => {
    await migrate(one!.sql);
    const first = new Lease(one!, { holder: "first", endpoint: "a", ttlMs: 1000, log });
    await first.acquire(new AbortController().signal);
    assert(first.held());
    // No keep(): nothing renews. The local view ends at 80% of the TTL.
    const second = new Lease(two!, { holder: "second", endpoint: "b", ttlMs: 1000, log });
    const taking = second.acquire(new AbortController().signal);
    let heldWhenTaken: boolean | undefined;
    void taking.then(() => heldWhenTaken = first.held());
    assertEquals(await taking, 2);
    assertEquals(heldWhenTaken, false, "the first still counted the lease as its own");
    // And its late renewal fences it.
    let lost = "";
    first.keep((reason) => lost = reason);
    assertEquals(await first.renewNow().catch(() => false), false);
    assert(lost.length > 0, "losing the lease was not reported");
  }));

Deno.test("a transaction the server ends for idling is one the mirror retries; an error for the data is not", () =>
  withSessions(1, async (_pg, [one]) => {
    // What a mirror transaction whose client went silent meets (see `StoreMirror`).
    const idle = await one!.sql.begin(async (tx) => {
      await tx`SET LOCAL idle_in_transaction_session_timeout = '100ms'`;
      await new Promise((resolve) => setTimeout(resolve, 400));
      await tx`SELECT 1`;
    }).then(() => undefined, (error: unknown) => error);
    assert(idle instanceof Error, "the server did not end the idle transaction");
    assert(mayPass(idle), `not retried: ${idle}`);
    const refused = await one!.sql`SELECT 1 / 0`.then(() => undefined, (error: unknown) => error);
    assertEquals((refused as { code?: string }).code, "22012");
    assert(!mayPass(refused), "an error for the data itself was retried");
  }));
