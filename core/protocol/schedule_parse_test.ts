import { assert, assertEquals } from "../../tests/_assert.ts";
import { encode, parseToRouter, PROTOCOL, PROTOCOL_LIMITS, ProtocolError } from "./mod.ts";

/** A message as a hostile peer may send it: any shape. */
const frames = (message: Record<string, unknown>) =>
  [PROTOCOL, JSON.stringify(message)].map((text) => new TextEncoder().encode(text));

function refused(message: Record<string, unknown>): ProtocolError {
  try {
    parseToRouter(frames(message));
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(message)} parsed`);
}

Deno.test("schedule requests parse into their typed values, extra fields left out", () => {
  const schedule = { id: "nightly", cron: "0 3 * * *", pipeline: { graph: { ok: [] } } };
  assertEquals(parseToRouter(encode({ type: "create-schedule", id: "1", schedule })), {
    type: "create-schedule",
    id: "1",
    schedule,
  });
  assertEquals(
    parseToRouter(encode({ type: "put-schedule", id: "2", scheduleId: "nightly", schedule })),
    { type: "put-schedule", id: "2", scheduleId: "nightly", schedule },
  );
  const extra = { type: "get-schedule", id: "3", scheduleId: "nightly", evil: "x".repeat(1000) };
  assertEquals(parseToRouter(frames(extra)), {
    type: "get-schedule",
    id: "3",
    scheduleId: "nightly",
  });
  assertEquals(parseToRouter(encode({ type: "list-schedules", id: "4" })), {
    type: "list-schedules",
    id: "4",
  });
  assertEquals(
    parseToRouter(encode({ type: "delete-schedule", id: "5", scheduleId: "nightly" })),
    { type: "delete-schedule", id: "5", scheduleId: "nightly" },
  );
});

Deno.test("schedule requests with a bad or oversized field are malformed, naming it, answerable", () => {
  const long = "x".repeat(PROTOCOL_LIMITS.maxIdLength + 1);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ type: "create-schedule", id: "1", schedule: [1] }, "schedule"],
    [{ type: "create-schedule", id: "1", schedule: null }, "schedule"],
    [{ type: "put-schedule", id: "1", scheduleId: long, schedule: {} }, "scheduleId"],
    [{ type: "put-schedule", id: "1", scheduleId: "a" }, "schedule"],
    [{ type: "get-schedule", id: "1", scheduleId: "" }, "scheduleId"],
    [{ type: "delete-schedule", id: "1", scheduleId: { $ne: 1 } }, "scheduleId"],
  ];
  for (const [message, field] of cases) {
    const error = refused(message);
    assertEquals(error.field, field, error.message);
    assertEquals(error.requestId, "1");
    assert(error.message.includes(`"${field}"`), error.message);
  }
});
