/**
 * Function files written while a broker runs, seen through a real Router: new,
 * changed and removed files take effect without a restart, invalid configs are
 * listed with their problems, and a function that declares more permissions gets
 * them (and only it), also while the slot is busy.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { delay } from "./_helpers.ts";
import { type FunctionView, PipelineValidationError } from "../mod.ts";
import { errorOf, outputOf, runOne, tempDir, WAIT_MS } from "./_sandbox.ts";

/**
 * Longer than a broker of today stays without work before it stops the process it
 * keeps to read new function files (10 s): a file written after that is still served.
 */
const IDLE_MS = 11_000;

/** A function that declares a read of `secret` and returns its text. */
const secretReader = (secret: string) =>
  `export const config = { permissions: { read: [${JSON.stringify(secret)}] } };
export default async () => ({ secret: await Deno.readTextFile(${JSON.stringify(secret)}) });\n`;

Deno.test("function files written while the broker runs take effect without a restart", async (t) => {
  await using functions = await tempDir();
  const dir = functions.path;
  await using secretFile = {
    path: await Deno.makeTempFile({ prefix: "pipelinin-secret-" }),
    [Symbol.asyncDispose]() {
      return Deno.remove(this.path).catch(() => {});
    },
  };
  const secret = secretFile.path;
  await Deno.writeTextFile(secret, "s3cret");
  await using cluster = await Cluster.start({ functionsDir: dir, workers: 1 });
  /** Waits until the cluster lists `name` as `accept` wants it. */
  const listed = async (name: string, accept: (view: FunctionView | undefined) => boolean) => {
    const deadline = Date.now() + WAIT_MS;
    while (true) {
      const view = (await cluster.manager.functions()).find((f) => f.name === name);
      if (accept(view)) return view;
      assert(Date.now() < deadline, `${name} not listed as expected: ${JSON.stringify(view)}`);
      await delay(20);
    }
  };
  /** When the broker last had a new function file to read. */
  let lastRead = Date.now();
  const served = (view: FunctionView | undefined) => (view?.brokers.length ?? 0) > 0;

  await t.step(
    "invalid configs and permissions that are never granted are listed as the module's error",
    async () => {
      await Deno.writeTextFile(
        `${dir}/greedy.ts`,
        `export const config = { permissions: { run: true, net: "yes" }, timeoutMs: -1, extra: 1 };
export default () => ({});\n`,
      );
      const view = await listed("greedy", (view) => (view?.errors.length ?? 0) > 0);
      assertEquals(view?.brokers, [], "nobody serves it");
      const message = view?.errors[0]?.message ?? "";
      for (
        const part of [
          /"run" is never granted/,
          /permissions\.net/,
          /timeoutMs/,
          /Unknown config key "extra"/,
        ]
      ) {
        assert(part.test(message), `${part}: ${message}`);
      }
      const refused = await assertRejects(
        () => cluster.manager.start({ graph: { greedy: [] } }),
        PipelineValidationError,
      );
      assertEquals(refused.problems, ['Function "greedy" is not known to any broker']);
    },
  );

  await t.step(
    "new, changed and removed function files take effect without a restart",
    async () => {
      assertEquals(outputOf(await runOne(cluster, "ok", { n: 1 })), { n: 2 });

      await Deno.writeTextFile(`${dir}/fresh.ts`, `export default () => ({ fresh: true });\n`);
      await listed("fresh", served);
      assertEquals(outputOf(await runOne(cluster, "fresh")), { fresh: true });

      // The new config shows when the change is known; the new code must then run.
      await Deno.writeTextFile(
        `${dir}/ok.ts`,
        `export const config = { retries: 1 };
export default (input) => ({ n: input.n + 100 });\n`,
      );
      await listed("ok", (view) => served(view) && view?.config.retries === 1);
      assertEquals(
        outputOf(await runOne(cluster, "ok", { n: 1 })),
        { n: 101 },
        "the warm worker was replaced",
      );

      await Deno.remove(`${dir}/fresh.ts`);
      await listed("fresh", (view) => !served(view));
      const refused = await assertRejects(
        () => cluster.manager.start({ graph: { fresh: [] } }),
        PipelineValidationError,
      );
      assertEquals(refused.problems, ['Function "fresh" is not known to any broker']);
    },
  );

  await t.step(
    "a new function that declares more permissions gets them; the others still cannot read",
    async () => {
      await Deno.writeTextFile(`${dir}/reads_secret.ts`, secretReader(secret));
      await listed("reads_secret", served);
      assertEquals(outputOf(await runOne(cluster, "reads_secret")), { secret: "s3cret" });
      assertEquals(errorOf(await runOne(cluster, "reads_file")).name, "NotCapable");
    },
  );

  await t.step(
    "a slot busy with jobs when a function gains permissions finishes them, then runs it",
    async () => {
      const busy = [
        await cluster.manager.start({ graph: { slow: [] }, data: { ms: 400 } }),
        await cluster.manager.start({ graph: { slow: [] }, data: { ms: 200 } }),
      ];
      await Deno.writeTextFile(`${dir}/reads_secret_too.ts`, secretReader(secret));
      await listed("reads_secret_too", served);
      lastRead = Date.now();
      const read = await cluster.manager.start({ graph: { reads_secret_too: [] } });
      const [first, second, last] = await Promise.all(
        [...busy, read].map((id) => cluster.manager.wait(id, { timeoutMs: WAIT_MS })),
      );
      assertEquals([outputOf(first!).waited, outputOf(second!).waited], [400, 200]);
      assertEquals(outputOf(last!), { secret: "s3cret" });
    },
  );

  await t.step("a function file written after the broker sat idle is served too", async () => {
    await delay(Math.max(0, lastRead + IDLE_MS - Date.now()));
    await Deno.writeTextFile(`${dir}/late.ts`, "export default () => ({ late: true });\n");
    await listed("late", served);
    assertEquals(outputOf(await runOne(cluster, "late")), { late: true });
  });
});
