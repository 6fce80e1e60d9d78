import { assertEquals } from "../../tests/_assert.ts";
import { parseTraceparent, startTracing, tracingWanted } from "./mod.ts";

const ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

Deno.test("a W3C traceparent is read by its four fields; a malformed one is none", () => {
  assertEquals(parseTraceparent(`00-${ID}-${SPAN}-01`), {
    traceId: ID,
    spanId: SPAN,
    traceparent: `00-${ID}-${SPAN}-01`,
  });
  // A later version may add fields: its first four are read.
  assertEquals(parseTraceparent(`cc-${ID}-${SPAN}-01-extra`)?.traceparent, `cc-${ID}-${SPAN}-01`);
  for (
    const bad of [
      undefined,
      5,
      "",
      `00-${ID}-${SPAN}-01-extra`, // version 00 has exactly four fields
      `ff-${ID}-${SPAN}-01`,
      `00-${"0".repeat(32)}-${SPAN}-01`,
      `00-${ID}-${"0".repeat(16)}-01`,
      `00-${ID.toUpperCase()}-${SPAN}-01`,
      `00-${ID}-${SPAN}-1`,
      `00-${ID}-${SPAN}-01`.padEnd(600, "x"),
    ]
  ) assertEquals(parseTraceparent(bad), undefined, String(bad));
});

Deno.test("without an OTLP endpoint, tracing is off: startTracing gives no tracer", async () => {
  for (const name of ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) {
    assertEquals(Deno.env.get(name), undefined, `${name} is set around the tests`);
  }
  assertEquals(tracingWanted(), false);
  assertEquals(await startTracing("test", "t1"), undefined);
});
