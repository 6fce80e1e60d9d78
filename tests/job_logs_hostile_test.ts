/**
 * A peer that joined as a broker cannot write into another broker's job's log: the
 * Router keeps an attempt's lines only from the broker running that attempt, refuses
 * an event over the protocol's caps with a protocol error, and serves on.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { delay } from "./_helpers.ts";
import { tempDir, untilRunning, WAIT_MS } from "./_sandbox.ts";
import { RouterLink } from "../core/router_link.ts";
import { JobLogClient } from "../mod.ts";
import { PROTOCOL_LIMITS, type ProtocolErrorEvent } from "../core/protocol/mod.ts";

const PACED = `export default async (input, ctx) => {
  ctx.log.info("first");
  await new Promise((resolve) => setTimeout(resolve, Number(input.ms)));
  ctx.log.info("second");
  return { paced: true };
};
`;

Deno.test("a broker cannot log for an attempt it does not run, nor past the protocol's caps", async () => {
  await using functions = await tempDir({ "paced.ts": PACED });
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 1,
    waitFor: ["paced"],
  });
  const id = await cluster.manager.start({ graph: { paced: [] }, data: { ms: 1500 } });
  await untilRunning(cluster, id, "paced");
  const errors: ProtocolErrorEvent[] = [];
  const intruder = new RouterLink({
    api: cluster.api,
    routingId: "intruder",
    onEvent: (event) => {
      if (event.type === "error") errors.push(event);
    },
  });
  try {
    await intruder.request({
      type: "broker-hello",
      broker: { id: "intruder", host: "test", pid: 1, slots: 1 },
      functions: [],
    });
    const forged = { time: Date.now(), level: "error" as const, message: "FORGED" };
    const target = { pipelineId: id, jobId: "paced" };
    for (const attempt of [0, 1, 2]) {
      await intruder.send({ type: "job-logs", ...target, attempt, records: [forged] });
    }
    const many = Array(PROTOCOL_LIMITS.maxLogRecords + 1).fill(forged);
    await intruder.send({ type: "job-logs", ...target, attempt: 1, records: many });
    const deadline = Date.now() + WAIT_MS;
    while (errors.length === 0) {
      assert(Date.now() < deadline, "no protocol error for the oversized event");
      await delay(10);
    }
    assert(/records/.test(errors[0]!.error.message), errors[0]!.error.message);
  } finally {
    await intruder.close();
  }
  const result = await cluster.manager.wait(id, { timeoutMs: WAIT_MS });
  assertEquals(result.status, "succeeded");
  const lines = await new JobLogClient({ url: cluster.http }).read(id, "paced");
  assertEquals(lines.map((line) => line.message), ["first", "second"]);
  const health = await fetch(`${cluster.http}/health`);
  assertEquals((await health.json()).status, "ok");
});
