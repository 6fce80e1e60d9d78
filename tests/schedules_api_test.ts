/**
 * Schedules' operations over HTTP, ZeroMQ (raw frames) and the TypeScript client:
 * create, list with next runs, read, replace, delete; invalid input refused with
 * every problem listed and nothing stored; hostile frames refused, the Router on.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { http, routerUp } from "./_schedules.ts";
import { Context } from "../core/zmq/mod.ts";
import { PROTOCOL } from "../core/protocol/mod.ts";
import { Pipeline, RemoteError, type ScheduleRecord } from "../mod.ts";

/** A schedule wrong in every field at once. */
const BAD = {
  id: "no spaces!",
  cron: "61 * * * *",
  timezone: "Mars/Olympus",
  overlap: "sometimes",
  pipeline: { graph: { nope: ["ok"], ok: ["nope"] } },
  colour: "blue",
};
const BAD_PROBLEMS = [
  /Unknown field "colour"/,
  /"id" must be 1 to 128 letters/,
  /"overlap" must be "skip" or "allow"/,
  /"timezone" is not a known IANA time zone: "Mars\/Olympus"/,
  /"cron" is not a valid cron expression: .*minute/,
  /Pipeline: Function "nope" is not known to any broker/,
  /Pipeline: Cycle:/,
];

function assertProblems(problems: readonly string[] | undefined, expected: RegExp[]): void {
  assert(problems, "no problems listed");
  assertEquals(problems.length, expected.length, problems.join("\n"));
  for (const pattern of expected) {
    assert(problems.some((p) => pattern.test(p)), `${pattern} not in:\n${problems.join("\n")}`);
  }
}

interface OpenApi {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, { properties: Record<string, unknown> }> };
}

async function refused(promise: Promise<unknown>): Promise<RemoteError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RemoteError) return error;
    throw error;
  }
  throw new Error("the Router took it");
}

Deno.test("invalid schedules are refused with every problem listed, over HTTP and ZeroMQ, and nothing is stored", async () => {
  await using cluster = await Cluster.start();
  const refusedHttp = await http(cluster, "POST", "/schedules", BAD);
  assertEquals(refusedHttp.status, 400);
  assertProblems(refusedHttp.body.problems, BAD_PROBLEMS);
  const missing = await http(cluster, "POST", "/schedules", { id: "x" });
  assertEquals(missing.status, 400);
  assertProblems(missing.body.problems, [/"cron" must be a string/, /"pipeline" is missing/]);
  const malformed = await http(cluster, "POST", "/schedules", "{nope");
  assertEquals(malformed.status, 400);
  assertProblems(malformed.body.problems, [/Malformed JSON/]);
  const put = await http(cluster, "PUT", "/schedules/a", {
    id: "b",
    cron: "0 0 30 2 *",
    pipeline: { graph: { ok: [] } },
  });
  assertEquals(put.status, 400);
  assertProblems(put.body.problems, [/"id" is "b" but the path names "a"/, /never comes again/]);
  // The same through the client (ZeroMQ).
  // @ts-expect-error: a hostile schedule, wrong in every field.
  const zmq = await refused(cluster.manager.createSchedule(BAD));
  assertEquals(zmq.name, "ScheduleValidationError");
  assertProblems(zmq.data.problems, BAD_PROBLEMS);
  const zmqPut = await refused(
    cluster.manager.putSchedule({ id: "a", cron: "* * * * *", pipeline: { graph: {} } }),
  );
  assertProblems(zmqPut.data.problems, [/Pipeline: .*no jobs|Pipeline: .*empty/i]);
  // Hostile bodies of every kind, many times: each refused, none stored, the Router on.
  const deep =
    '{"id": "deep", "cron": "* * * * *", "pipeline": {"graph": {"ok": []}, "data": {"a": ' +
    "[".repeat(100_000) + "]".repeat(100_000) + "}}}";
  const bodies = ["{", "[]", "null", '{"id": 5}', '{"__proto__": {"id": "x"}}', deep, "\u0000"];
  for (let i = 0; i < 300; i++) {
    const method = i % 2 ? "PUT" : "POST";
    const path = method === "PUT" ? "/schedules/hostile" : "/schedules";
    const body = i % 50 === 0
      ? crypto.getRandomValues(new Uint8Array(64))
      : bodies[i % bodies.length];
    const response = await fetch(cluster.http + path, {
      method,
      headers: { "content-type": "application/json" },
      body,
    });
    assertEquals(response.status, 400, `body ${i}`);
    await response.body?.cancel();
  }
  assertEquals((await http<{ schedules: unknown[] }>(cluster, "GET", "/schedules")).body, {
    schedules: [],
  });
  assertEquals(await cluster.manager.schedules(), []);
});

Deno.test("hostile schedule requests over raw ZeroMQ get a protocol error, and the Router serves on", async () => {
  await using cluster = await Cluster.start();
  const context = new Context();
  try {
    const peer = context.socket("dealer", { linger: 0 });
    peer.connect(cluster.api);
    const frame = (value: unknown) => [
      new TextEncoder().encode(PROTOCOL),
      new TextEncoder().encode(JSON.stringify(value)),
    ];
    const cases: Array<[unknown, string]> = [
      [{ type: "create-schedule", id: "1", schedule: "every day" }, '"schedule"'],
      [{ type: "create-schedule", id: "2" }, '"schedule"'],
      [
        { type: "put-schedule", id: "3", scheduleId: "x".repeat(300), schedule: {} },
        '"scheduleId"',
      ],
      [{ type: "get-schedule", id: "4", scheduleId: 7 }, '"scheduleId"'],
      [{ type: "delete-schedule", id: "5" }, '"scheduleId"'],
    ];
    for (const [message, expected] of cases) {
      await peer.send(frame(message));
      const [, body] = await peer.receive();
      const reply = JSON.parse(new TextDecoder().decode(body));
      assertEquals(reply.error?.name, "ProtocolError", JSON.stringify(reply));
      assert(String(reply.error.message).includes(expected), reply.error.message);
    }
    // A schedule id too long for the Router's own check, inside the protocol's cap.
    await peer.send(frame({ type: "get-schedule", id: "6", scheduleId: "y".repeat(200) }));
    const [, body] = await peer.receive();
    assertEquals(JSON.parse(new TextDecoder().decode(body)).error.name, "ScheduleNotFoundError");
  } finally {
    await context.close();
  }
  assertEquals(await cluster.manager.schedules(), []);
});

Deno.test("schedules: create, list with next runs, read, replace and delete over HTTP and the client; kept across a restart", async () => {
  await using cluster = await Cluster.start();
  const nightly = {
    id: "nightly",
    cron: "0 3 * * *",
    timezone: "Europe/Paris",
    pipeline: { graph: { ok: [] }, data: { n: 0 } },
  };
  const created = await http<ScheduleRecord>(cluster, "POST", "/schedules", nightly);
  assertEquals(created.status, 201, JSON.stringify(created.body));
  const next = new Date(created.body.nextRunAt!);
  // 03:00 in Paris is 02:00 UTC in winter, 01:00 in summer.
  assert(next.getTime() > Date.now() && next.getTime() - Date.now() <= 86_400_000);
  assert([1, 2].includes(next.getUTCHours()) && next.getUTCMinutes() === 0, next.toISOString());
  assertEquals(created.body.overlap, "skip"); // The default.
  const again = await http(cluster, "POST", "/schedules", nightly);
  assertEquals([again.status, again.body.name], [409, "ScheduleExistsError"]);
  assertEquals(
    (await refused(cluster.manager.createSchedule(nightly))).name,
    "ScheduleExistsError",
  );
  assertEquals(await cluster.manager.schedule("nightly"), created.body);
  // /openapi.json describes every route and every field a schedule has.
  const openApi = (await http<OpenApi>(cluster, "GET", "/openapi.json")).body;
  assertEquals(Object.keys(openApi.paths["/schedules"]!).sort(), ["get", "post"]);
  assertEquals(Object.keys(openApi.paths["/schedules/{id}"]!).sort(), ["delete", "get", "put"]);
  const described = (schema: string) => Object.keys(openApi.components.schemas[schema]!.properties);
  for (const field of Object.keys(created.body)) {
    assert(described("Schedule").includes(field), field);
  }
  for (const field of Object.keys(nightly)) {
    assert(described("ScheduleSpec").includes(field), field);
  }
  assert(described("ScheduleSpec").includes("overlap"));
  assert(described("Pipeline").includes("schedule"));

  const replaced = await cluster.manager.putSchedule({
    ...nightly,
    cron: "30 4 * * 1-5",
    pipeline: new Pipeline({ ok: [] }, { data: { n: 0 } }),
  });
  assertEquals(replaced.created, false);
  const read = await http<ScheduleRecord>(cluster, "GET", "/schedules/nightly");
  assertEquals(read.body.cron, "30 4 * * 1-5");
  assertEquals(read.body.pipeline, new Pipeline({ ok: [] }, { data: { n: 0 } }).toSpec());
  assertEquals(read.body.createdAt, created.body.createdAt);
  assert(read.body.updatedAt >= created.body.updatedAt);
  assertEquals(new Date(read.body.nextRunAt!).getUTCMinutes(), 30);
  const hourly = await http<ScheduleRecord>(cluster, "PUT", "/schedules/hourly", {
    cron: "0 * * * *",
    pipeline: { graph: { ok: [] } },
    overlap: "allow",
  });
  assertEquals([hourly.status, hourly.body.id, hourly.body.timezone], [201, "hourly", "UTC"]);
  const listed = await http<{ schedules: ScheduleRecord[] }>(cluster, "GET", "/schedules");
  assertEquals(listed.body.schedules.map((s) => s.id), ["hourly", "nightly"]);
  assert(listed.body.schedules.every((s) => s.nextRunAt! > Date.now()));

  // Durable: a Router stopped and started again keeps them, as they were.
  await cluster.router.stop();
  cluster.restartRouter();
  await routerUp(cluster);
  assertEquals(await cluster.manager.schedules(), listed.body.schedules);

  await cluster.manager.deleteSchedule("nightly");
  const gone = await http(cluster, "GET", "/schedules/nightly");
  assertEquals([gone.status, gone.body.name], [404, "ScheduleNotFoundError"]);
  assertEquals((await refused(cluster.manager.schedule("nightly"))).name, "ScheduleNotFoundError");
  assertEquals((await http(cluster, "DELETE", "/schedules/hourly")).status, 200);
  assertEquals((await http(cluster, "DELETE", "/schedules/hourly")).status, 404);
  assertEquals(await cluster.manager.schedules(), []);
});
