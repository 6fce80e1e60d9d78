/**
 * A broker daemon's start and stop, seen from the outside: the Router's record of
 * the job it was running, and `/proc` for the processes it leaves behind (none).
 * The three cases are independent processes, so they run at once.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { Cluster, Daemon, freePort } from "./_cluster.ts";
import { delay, withTimeout } from "./_helpers.ts";
import { DAEMON_FLAGS } from "../deno_flags.ts";
import { RemoteError } from "../core/router_link.ts";
import {
  alive,
  descendants,
  fixtureCopy,
  HANGS_LONG,
  jobOf,
  tempDir,
  untilRunning,
} from "./_sandbox.ts";

/** A broker daemon of two slots on `functions`, joining a Router at `router`. */
function broker(name: string, router: string, functions: string): Daemon {
  return new Daemon(name, [
    "run",
    ...DAEMON_FLAGS.broker,
    "broker/main.ts",
    "--router",
    router,
    "--functions",
    functions,
    "--workers",
    "2",
    // A process per slot: more hosts that must not be left behind.
    "--host-slots",
    "1",
    "--heap-mb",
    "64",
  ]);
}

/** Every process seen below `daemon` until it exits, looking every few ms. */
async function watchDescendants(daemon: Daemon, seen: Set<number>): Promise<void> {
  let exited = false;
  const status = daemon.status.finally(() => (exited = true));
  while (!exited) {
    for (const pid of descendants(daemon.pid)) seen.add(pid);
    await delay(2);
  }
  await status;
}

/** Waits until none of `pids` runs; kills (and reports) those still running after `ms`. */
async function allGone(pids: number[], ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (alive(pids).length > 0 && Date.now() < deadline) await delay(20);
  const left = alive(pids);
  for (const pid of left) Deno.kill(pid, "SIGKILL"); // Ours: started by our broker.
  assertEquals(left, [], `${what}: no process left behind`);
}

/** A stopped broker's running job goes back in line; its hosts end with it. */
async function stopWhileRunning(): Promise<void> {
  await using functions = await tempDir({ "hangs_long.ts": HANGS_LONG });
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 2,
    brokerArgs: ["--host-slots", "1"],
    waitFor: ["ok", "hangs_long"],
  });
  const daemon = cluster.brokers[0]!;
  const id = await cluster.manager.start({ graph: { hangs_long: [] } });
  await untilRunning(cluster, id, "hangs_long");
  const hosts = descendants(daemon.pid);
  assert(hosts.length >= 2, `a host per slot: ${hosts}`);
  daemon.kill("SIGTERM");
  const status = await withTimeout(daemon.status, 20_000, `the broker to stop\n${cluster.logs()}`);
  assertEquals(status.code, 0, daemon.output);
  assertEquals(alive(hosts), [], "no host outlives the broker");
  const job = jobOf(await cluster.manager.status(id));
  assertEquals([job.status, job.attempts], ["pending", 0], "back in line for another broker");
  const listed = (await cluster.manager.functions()).find((f) => f.name === "ok");
  assertEquals(listed?.brokers ?? [], [], "nothing is served by a stopped broker");
  // Its broker may come back: a submit now is to be retried, not a mistake.
  const refused = await assertRejects(
    () => cluster.manager.start({ graph: { ok: [] } }),
    RemoteError,
  );
  assertEquals([refused.name, refused.data.retryable], ["NoBrokerError", true]);
  await cluster.manager.cancel(id);
}

/**
 * A broker stopped before it has joined a Router (there is none at its endpoint),
 * once as its first host appears and once its hosts are all up.
 */
async function stopWhileStarting(): Promise<void> {
  const dir = await fixtureCopy();
  try {
    for (
      const [moment, atLeast] of [["its first host appears", 1], ["its hosts are up", 2]] as const
    ) {
      const daemon = broker("starting", `tcp://127.0.0.1:${freePort()}`, dir);
      const seen = new Set<number>();
      const watching = watchDescendants(daemon, seen);
      try {
        const deadline = Date.now() + 30_000;
        while (seen.size < atLeast && Date.now() < deadline) await delay(2);
        assert(seen.size >= atLeast, `${moment}: ${[...seen]}\n${daemon.output}`);
        daemon.kill("SIGTERM");
        await withTimeout(watching, 20_000, `the starting broker to end\n${daemon.output}`);
        // Stopped before it set up its own stop, it dies at once: its hosts end on their own.
        await allGone([...seen], 10_000, `stopped when ${moment}`);
      } finally {
        await daemon.stop();
        await watching.catch(() => {});
        for (const pid of alive([...seen])) Deno.kill(pid, "SIGKILL");
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A broker on a folder that does not exist fails to start and starts nothing. */
async function missingFolder(): Promise<void> {
  const folder = "/nonexistent/pipelinin-functions";
  const daemon = broker("missing", `tcp://127.0.0.1:${freePort()}`, folder);
  const seen = new Set<number>();
  try {
    await withTimeout(
      watchDescendants(daemon, seen),
      20_000,
      `the broker to fail\n${daemon.output}`,
    );
    const status = await daemon.status;
    assertEquals(status.code, 1, daemon.output);
    assert(
      /Could not start: No such file or directory.*\/nonexistent\/pipelinin-functions/.test(
        daemon.output,
      ),
      daemon.output,
    );
    assertEquals([...seen], [], "it started no process");
  } finally {
    await daemon.stop();
    for (const pid of alive([...seen])) Deno.kill(pid, "SIGKILL");
  }
}

Deno.test("a broker stopped while it runs a job, or while it starts, or that cannot start, leaves no host process behind", async () => {
  const cases = { stopWhileRunning, stopWhileStarting, missingFolder };
  const results = await Promise.allSettled(Object.values(cases).map((body) => body()));
  const failures = results.flatMap((result, at) =>
    result.status === "rejected"
      ? [`${Object.keys(cases)[at]}: ${result.reason?.stack ?? result.reason}`]
      : []
  );
  assertEquals(failures, []);
});
