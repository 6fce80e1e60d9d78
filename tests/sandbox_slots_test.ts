/**
 * Slots that share a worker host process (the default: up to 4 per host). They share
 * its memory, so one process serves two slots; and its fate, so an out-of-memory
 * ends every job running in it. Those jobs run again, and their errors say which
 * functions shared the host.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import {
  descendants,
  jobOf,
  outputOf,
  runOne,
  tempDir,
  untilRunning,
  WAIT_MS,
} from "./_sandbox.ts";

Deno.test("two slots share one worker host; an out-of-memory there fails the job beside it once, which then runs again", async () => {
  await using functions = await tempDir();
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 2,
    waitFor: ["ok", "slow", "oom"],
  });
  const hosts = descendants(cluster.brokers[0]!.pid);
  assertEquals(hosts.length, 1, `one host process for both slots: ${hosts}`);

  const slowId = await cluster.manager.start({ graph: { slow: [] }, data: { ms: 1_500 } });
  await untilRunning(cluster, slowId, "slow");
  const hog = await runOne(cluster, "oom");
  const slow = await cluster.manager.wait(slowId, { timeoutMs: WAIT_MS });

  assertEquals(hog.status, "failed");
  // Only the crashes it had alone count toward poison.
  assertEquals(jobOf(hog).error?.name, "PoisonJobError", JSON.stringify(jobOf(hog)));
  const hogErrors = jobOf(hog).attemptErrors ?? [];
  assert(hogErrors.length > 0, JSON.stringify(jobOf(hog)));
  assert(hogErrors.every((error) => error.name === "OutOfMemoryError"), JSON.stringify(hogErrors));
  assertEquals(
    hogErrors[0]!.message,
    'Function "oom", or "slow" beside it in its worker host, ran out of memory (heap limit 64 MiB)',
  );

  assertEquals(slow.status, "succeeded", JSON.stringify(slow));
  assertEquals(outputOf(slow).waited, 1_500);
  // Its first attempt died with the host it shared; it ran again alone and succeeded.
  const slowJob = jobOf(slow);
  const [first, ...later] = slowJob.attemptErrors ?? [];
  assertEquals(
    [first?.name, first?.message, first?.crashed, first?.shared],
    [
      "OutOfMemoryError",
      'Function "slow", or "oom" beside it in its worker host, ran out of memory (heap limit 64 MiB)',
      true,
      true,
    ],
  );
  assert(later.every((error) => error.name !== "PoisonJobError"), JSON.stringify(slowJob));

  // The host was started again, and serves both slots.
  const after = await Promise.all([
    runOne(cluster, "ok", { n: 1 }),
    runOne(cluster, "ok", { n: 2 }),
  ]);
  assertEquals(after.map((result) => outputOf(result)), [{ n: 2 }, { n: 3 }]);
  assertEquals(descendants(cluster.brokers[0]!.pid).length, 1, "still one host process");
});
