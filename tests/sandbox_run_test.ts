/**
 * The broker's sandbox, seen through a real Router: a function's output, errors,
 * permissions, logs, load errors, memory limit and slots, each read from the
 * pipeline's record (or the job's log lines the Router keeps). One cluster of two slots for all.
 */
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { delay } from "./_helpers.ts";
import {
  JobLogClient,
  type JobLogLine,
  type PipelineSpec,
  PipelineValidationError,
} from "../mod.ts";
import { errorOf, jobOf, outputOf, run, runOne, tempDir, WAIT_MS } from "./_sandbox.ts";

/** The log lines the Router keeps of a pipeline's job. */
function logsOf(cluster: Cluster, pipelineId: string, jobId: string): Promise<JobLogLine[]> {
  return new JobLogClient({ url: cluster.http }).read(pipelineId, jobId);
}

/** The broker's slots and busy slots, as the Router's HTTP front lists them. */
async function brokerLoad(cluster: Cluster): Promise<{ slots: number; busy: number }> {
  const response = await fetch(`${cluster.http}/brokers`);
  const { brokers } = await response.json() as { brokers: Array<{ slots: number; busy: number }> };
  assertEquals(brokers.length, 1, JSON.stringify(brokers));
  return { slots: brokers[0]!.slots, busy: brokers[0]!.busy };
}

Deno.test("the sandbox runs functions through the Router, with their errors, permissions, logs and limits", async (t) => {
  await using functions = await tempDir();
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 2,
    // Debug records of functions (ctx.log.debug), as JSON lines: the test reads them.
    // A process per slot: an out-of-memory in one leaves the other running.
    brokerArgs: ["--log-level", "debug", "--log-format", "json", "--host-slots", "1"],
    waitFor: ["ok", "throws", "slow", "oom", "logs", "reads_file_allowed"],
  });
  const brokerId = (await cluster.manager.functions()).find((f) => f.name === "ok")!.brokers[0]!;

  await t.step(
    "a function's output becomes its job's output, and the warm worker serves again",
    async () => {
      const first = await runOne(cluster, "ok", { n: 1, keep: "me" });
      assertEquals(first.status, "succeeded");
      assertEquals(outputOf(first), { n: 2, keep: "me" });
      assertEquals(first.document, { n: 2, keep: "me" });
      const job = jobOf(first);
      assertEquals(job.attempts, 1);
      assert(job.broker?.startsWith(brokerId), `run by a host of ${brokerId}: ${job.broker}`);
      assert(job.durationMs !== undefined && job.durationMs >= 0, JSON.stringify(job));
      assert(job.startedAt! <= job.finishedAt!, JSON.stringify(job));
      assertEquals(
        await logsOf(cluster, first.id, "ok"),
        [],
        "a function that logs nothing leaves no log",
      );
      assertEquals(outputOf(await runOne(cluster, "ok", { n: 41 })), { n: 42 });
    },
  );

  await t.step(
    "a function that throws fails its job with the error's name, message and stack",
    async () => {
      const [thrown, nonretryable, badOutput] = await Promise.all([
        runOne(cluster, "throws"),
        runOne(cluster, "nonretryable"),
        runOne(cluster, "bad_output"),
      ]);
      const error = errorOf(thrown);
      assertEquals([error.name, error.message, error.retryable], [
        "RangeError",
        "Nothing to see here",
        true,
      ]);
      assert(/throws\.ts/.test(error.stack ?? ""), error.stack);
      assertEquals(jobOf(thrown).attempts, 1, "no retries unless the function asks for them");
      assertEquals(thrown.status, "failed");
      assertEquals(thrown.error?.message, 'Job "throws" failed: Nothing to see here');
      // A NonRetryableError is not retryable.
      assertEquals(
        [errorOf(nonretryable).name, errorOf(nonretryable).retryable],
        ["NonRetryableError", false],
      );
      // An output that is not a JSON object fails the job for good.
      assertEquals(
        [errorOf(badOutput).message, errorOf(badOutput).retryable],
        ['Function "bad_output" returned a string instead of a JSON object', false],
      );
    },
  );

  await t.step(
    "a function cannot read files or open sockets it did not declare; declared reads work",
    async () => {
      await using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const { port } = listener.addr;
      const [reads, connects, fetches, allowed] = await Promise.all([
        runOne(cluster, "reads_file"),
        runOne(cluster, "opens_socket", { port, via: "connect" }),
        runOne(cluster, "opens_socket", { port, via: "fetch" }),
        runOne(cluster, "reads_file_allowed"),
      ]);
      assertEquals(errorOf(reads).name, "NotCapable", errorOf(reads).message);
      assert(/read access/.test(errorOf(reads).message), errorOf(reads).message);
      for (const [via, denied] of [["connect", connects], ["fetch", fetches]] as const) {
        assertEquals(errorOf(denied).name, "NotCapable", `${via}: ${errorOf(denied).message}`);
        assert(/net access/.test(errorOf(denied).message), `${via}: ${errorOf(denied).message}`);
      }
      assertEquals(outputOf(allowed).text, await Deno.readTextFile("/etc/hostname"));
    },
  );

  await t.step("a function no broker knows is refused when the pipeline is submitted", async () => {
    for (
      const spec of [
        { graph: { nope: [] } } as PipelineSpec,
        { graph: { a: "b" }, jobs: { a: "ok", b: "nope" } }, // Also as a chain's follower.
      ]
    ) {
      const error = await assertRejects(
        () => cluster.manager.start(spec),
        PipelineValidationError,
      );
      assertEquals(error.problems, ['Function "nope" is not known to any broker']);
    }
  });

  await t.step(
    "modules that fail to load are listed with their errors while the others serve",
    async () => {
      const listed = new Map((await cluster.manager.functions()).map((f) => [f.name, f]));
      const broken = listed.get("syntax_error");
      assertEquals(broken?.brokers, [], "nobody serves it");
      assertEquals(broken?.errors.map((e) => e.broker), [brokerId]);
      assert(/syntax_error\.ts/.test(broken?.errors[0]?.message ?? ""), JSON.stringify(broken));
      assertEquals(listed.get("no_default")?.brokers, []);
      assert(
        /no default export/.test(listed.get("no_default")?.errors[0]?.message ?? ""),
        JSON.stringify(listed.get("no_default")),
      );
      assertEquals(listed.get("ok")?.errors, []);
      assertEquals(listed.get("ok")?.brokers, [brokerId]);
      assertEquals(listed.get("hangs")?.config, { timeoutMs: 500 });
      assert(listed.has("slow") && !listed.has("syntax_error.ts"), [...listed.keys()].join());
      const refused = await assertRejects(
        () => cluster.manager.start({ graph: { syntax_error: [] } }),
        PipelineValidationError,
      );
      assertEquals(refused.problems, ['Function "syntax_error" is not known to any broker']);
      assertEquals(outputOf(await runOne(cluster, "ok", { n: 0 })), { n: 1 });
    },
  );

  await t.step(
    "what a function logs through ctx.log and console is kept with its job, not printed by its broker",
    async () => {
      const result = await run(cluster, {
        graph: { "job-logs": [] },
        jobs: { "job-logs": "logs" },
        data: { x: 1 },
      });
      // Its "garbage on stdout" did not disturb the host that ran it.
      assertEquals(outputOf(result), { logged: 5 });
      const lines = await logsOf(cluster, result.id, "job-logs");
      const ids = { jobId: "job-logs", pipelineId: result.id };
      const records = lines.map(({ attempt, level, message, fields }) => ({
        attempt,
        level,
        message,
        ...(fields ? { fields } : {}),
      }));
      assertEquals(records.slice(0, 4), [
        { attempt: 1, level: "debug", message: "Starting", fields: { attempt: 1 } },
        { attempt: 1, level: "info", message: "Working on job", fields: ids },
        { attempt: 1, level: "warn", message: "Careful" },
        {
          attempt: 1,
          level: "error",
          message: "Something looked wrong",
          fields: { input: { x: 1 } },
        },
      ]);
      // `console.log("from console", { n: 1 })`: see the report on how its text is rendered.
      assertEquals([records[4]!.level, records.length], ["info", 5], JSON.stringify(lines));
      assert(records[4]!.message.startsWith("from console"), records[4]!.message);
      assert(lines.every((line) => Math.abs(line.time - Date.now()) < 60_000));
      assert(!cluster.brokers[0]!.output.includes("Working on job"), "the broker printed none");
      assertEquals(outputOf(await runOne(cluster, "ok", { n: 1 })), { n: 2 }, "the hosts serve on");
    },
  );

  await t.step(
    "a job that runs out of memory fails alone; a job on the other slot finishes, and both serve on",
    async () => {
      const [hog, slow] = await Promise.all([
        runOne(cluster, "oom"),
        runOne(cluster, "slow", { ms: 1_000 }),
      ]);
      const attempts = jobOf(hog).attemptErrors ?? [];
      assert(attempts.length > 0, JSON.stringify(jobOf(hog)));
      for (const error of attempts) {
        assertEquals(
          [error.name, error.message],
          ["OutOfMemoryError", 'Function "oom" ran out of memory (heap limit 64 MiB)'],
        );
      }
      assertEquals(hog.status, "failed");
      assertEquals(outputOf(slow).waited, 1_000);
      assertEquals([jobOf(slow).attempts, jobOf(slow).attemptErrors], [1, undefined]);
      assert(jobOf(slow).broker !== jobOf(hog).broker, "the slow job ran on the other slot");
      const after = await Promise.all([
        runOne(cluster, "ok", { n: 1 }),
        runOne(cluster, "ok", { n: 2 }),
      ]);
      assertEquals(after.map((result) => outputOf(result)), [{ n: 2 }, { n: 3 }]);
    },
  );

  await t.step(
    "two slots run two slow jobs at once, and a third waits for one of them",
    async () => {
      // A host that an out-of-memory above took down comes back after a back-off.
      for (const deadline = Date.now() + WAIT_MS; Date.now() < deadline;) {
        if ((await brokerLoad(cluster)).slots === 2) break;
        await delay(20);
      }
      // Submitted in this order, one after the other.
      const ids = [];
      for (const ms of [500, 500, 10]) {
        ids.push(await cluster.manager.start({ graph: { slow: [] }, data: { ms } }));
      }
      const waits = Promise.all(ids.map((id) => cluster.manager.wait(id, { timeoutMs: WAIT_MS })));
      // The Router counts both slots busy while the two slow jobs run, and none after.
      let load = await brokerLoad(cluster);
      for (const deadline = Date.now() + WAIT_MS; load.busy < 2 && Date.now() < deadline;) {
        load = await brokerLoad(cluster);
      }
      assertEquals(load.slots, 2);
      assert(load.busy >= 2, `both slots busy: ${JSON.stringify(load)}`);
      const [first, second, third] = (await waits).map((result) => outputOf(result));
      for (const deadline = Date.now() + WAIT_MS; load.busy > 0 && Date.now() < deadline;) {
        await delay(10);
        load = await brokerLoad(cluster);
      }
      assertEquals(load.busy, 0, "no slot busy once they ended");
      assert(first && second && third);
      assert(
        Number(first.startedAt) < Number(second.endedAt) &&
          Number(second.startedAt) < Number(first.endedAt),
        `the two slow jobs overlapped: ${JSON.stringify([first, second])}`,
      );
      assert(
        Number(third.startedAt) >= Math.min(Number(first.endedAt), Number(second.endedAt)),
        `the third waited: ${JSON.stringify([first, second, third])}`,
      );
    },
  );
});
