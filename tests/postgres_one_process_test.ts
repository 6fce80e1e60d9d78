/**
 * `deno task start --store postgres://...`: the one-process cluster on PostgreSQL
 * waits for the lease, then runs pipelines; a restart finds them in PostgreSQL.
 */
import { assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { TempPostgres } from "./_postgres.ts";

Deno.test("deno task start on PostgreSQL runs pipelines, and a new cluster on the same database finds them", async () => {
  await using pg = await TempPostgres.start();
  let id: string;
  {
    await using cluster = await Cluster.start({ oneProcess: true, store: pg.url });
    const result = await cluster.manager.run({ graph: { ok: [] }, data: { n: 1 } }, {
      timeoutMs: 30_000,
    });
    assertEquals([result.status, result.document.n], ["succeeded", 2]);
    id = result.id;
  }
  // Another data dir: nothing is read from the first one's working copy.
  await using again = await Cluster.start({ oneProcess: true, store: pg.url });
  const record = await again.manager.status(id);
  assertEquals([record.status, record.document.n], ["succeeded", 2]);
});
