/**
 * OpenTelemetry: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the Router, the pipeliner
 * and the worker hosts export their spans over OTLP/HTTP (JSON) to a receiver this
 * test runs: one trace per pipeline, under the `traceparent` the submit came with
 * (an HTTP header, or a field of a ZeroMQ submit), the function's span context in
 * `ctx.trace`, and each attempt's function, attempt, outcome and error as attributes.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { delay } from "./_helpers.ts";
import { tempDir, WAIT_MS } from "./_sandbox.ts";
import { RouterLink } from "../core/router_link.ts";
import type { PipelineRecord } from "../mod.ts";

/** A span as the receiver keeps it: OTLP/JSON, attributes flattened. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
  status: number;
  events: string[];
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean };
type OtlpAttributes = Array<{ key: string; value: OtlpValue }>;
type OtlpBody = {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttributes };
    scopeSpans: Array<{
      spans: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        attributes?: OtlpAttributes;
        status?: { code?: number };
        events?: Array<{ name: string }>;
      }>;
    }>;
  }>;
};

function flatten(attributes: OtlpAttributes = []): Record<string, unknown> {
  return Object.fromEntries(attributes.map(({ key, value }) => [
    key,
    value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : value.boolValue),
  ]));
}

/** A small OTLP/HTTP receiver: decodes each JSON export into spans. */
class Receiver implements AsyncDisposable {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes = new Set<string>();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor() {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const url = new URL(req.url);
      this.contentTypes.add(req.headers.get("content-type") ?? "");
      if (req.method !== "POST" || url.pathname !== "/v1/traces") {
        return new Response("not found", { status: 404 });
      }
      const body = await req.json() as OtlpBody;
      for (const resource of body.resourceSpans) {
        const service = String(flatten(resource.resource.attributes)["service.name"]);
        for (const scope of resource.scopeSpans) {
          for (const span of scope.spans) {
            this.spans.push({
              service,
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId ?? "",
              name: span.name,
              attributes: flatten(span.attributes),
              status: span.status?.code ?? 0,
              events: (span.events ?? []).map((event) => event.name),
            });
          }
        }
      }
      return Response.json({});
    });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Waits until `done` holds of the spans of trace `traceId`; returns them. */
  async trace(traceId: string, done: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
    const deadline = Date.now() + WAIT_MS;
    while (true) {
      const spans = this.spans.filter((span) => span.traceId === traceId);
      if (done(spans)) return spans;
      assert(Date.now() < deadline, `spans of ${traceId}: ${JSON.stringify(spans, null, 1)}`);
      await delay(50);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.shutdown();
  }
}

const TRACED = `export const config = { retries: 0 };
export default (input, ctx) => {
  if (input.fail && ctx.jobId === "second") throw new RangeError("second fails");
  return { [ctx.jobId]: ctx.trace ?? null };
};
`;

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN = "00f067aa0ba902b7";

Deno.test("one pipeline, one trace across Router, pipeliner and worker host, under the given traceparent", async () => {
  await using receiver = new Receiver();
  await using functions = await tempDir({ "traced.ts": TRACED });
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 1,
    waitFor: ["traced"],
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    },
  });
  // A fan-out: the pipeliner drives it (a chain would need none).
  const spec = {
    graph: { first: ["second", "third"] },
    jobs: { first: "traced", second: "traced", third: "traced" },
  };
  const response = await fetch(`${cluster.http}/pipelines`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`,
    },
    body: JSON.stringify(spec),
  });
  assertEquals(response.status, 201);
  const { id } = await response.json() as { id: string };
  const result = await cluster.manager.wait(id, { timeoutMs: WAIT_MS });
  assertEquals(result.status, "succeeded", JSON.stringify(result));

  const spans = await receiver.trace(
    TRACE_ID,
    (spans) =>
      spans.filter((s) => s.name === "function traced").length === 3 &&
      spans.some((s) => s.name === "pipeline") &&
      spans.some((s) => s.name === "drive pipeline"),
  );
  assertEquals(
    receiver.contentTypes.has("application/json"),
    true,
    [...receiver.contentTypes].join(),
  );
  const services = new Set(spans.map((s) => s.service));
  for (const service of ["pipelinin-router", "pipelinin-pipeliner", "pipelinin-worker-host"]) {
    assert(services.has(service), `no span from ${service}: ${[...services]}`);
  }
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const pipeline = spans.find((s) => s.name === "pipeline")!;
  assertEquals(pipeline.parentSpanId, PARENT_SPAN, "the given traceparent is the trace's parent");
  assertEquals(pipeline.attributes["pipelinin.pipeline.id"], id);
  assertEquals(pipeline.attributes["pipelinin.status"], "succeeded");
  assertEquals(byId.get(spans.find((s) => s.name === "submit")!.parentSpanId), pipeline);
  assertEquals(byId.get(spans.find((s) => s.name === "drive pipeline")!.parentSpanId), pipeline);
  for (const jobId of ["first", "second", "third"]) {
    const worker = spans.find((s) =>
      s.name === "function traced" && s.attributes["pipelinin.job.id"] === jobId
    );
    assert(worker, `no function span of ${jobId}`);
    // ctx.trace is the span of the attempt in its Web Worker.
    assertEquals(result.document[jobId], {
      traceId: TRACE_ID,
      spanId: worker.spanId,
      traceparent: `00-${TRACE_ID}-${worker.spanId}-01`,
    });
    const host = byId.get(worker.parentSpanId)!;
    assertEquals([host.name, host.service], ["run traced", "pipelinin-worker-host"]);
    assertEquals(host.attributes["pipelinin.function"], "traced");
    assertEquals(host.attributes["pipelinin.attempt"], 1);
    assertEquals(host.attributes["pipelinin.outcome"], "succeeded");
    const schedule = byId.get(host.parentSpanId)!;
    assertEquals([schedule.name, schedule.service], ["schedule traced", "pipelinin-router"]);
    assertEquals(schedule.parentSpanId, pipeline.spanId);
  }
});

Deno.test("a ZeroMQ submit's traceparent is honoured, and a failed attempt's span carries its error", async () => {
  await using receiver = new Receiver();
  await using functions = await tempDir({ "traced.ts": TRACED });
  await using cluster = await Cluster.start({
    functionsDir: functions.path,
    workers: 1,
    waitFor: ["traced"],
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    },
  });
  const link = new RouterLink({ api: cluster.api });
  try {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const record = await link.request<PipelineRecord>({
      type: "submit",
      pipeline: {
        graph: { first: "second" },
        jobs: { first: "traced", second: "traced" },
        data: { fail: true },
      },
      traceparent: `00-${traceId}-b7ad6b7169203331-01`,
      waitMs: WAIT_MS,
    }, WAIT_MS + 5_000);
    assertEquals(record.status, "failed");
    const spans = await receiver.trace(
      traceId,
      (spans) =>
        spans.some((s) =>
          s.name === "run traced" && s.attributes["pipelinin.outcome"] === "failed"
        ) &&
        spans.some((s) => s.name === "pipeline"),
    );
    const pipeline = spans.find((s) => s.name === "pipeline")!;
    assertEquals(pipeline.parentSpanId, "b7ad6b7169203331");
    assertEquals(pipeline.attributes["pipelinin.status"], "failed");
    const failed = spans.find((s) =>
      s.name === "run traced" && s.attributes["pipelinin.outcome"] === "failed"
    )!;
    assertEquals(failed.attributes["pipelinin.job.id"], "second");
    assertEquals(failed.attributes["error.type"], "RangeError");
    assertEquals(failed.status, 2, "status ERROR");
    assert(failed.events.includes("exception"), JSON.stringify(failed));
    // A malformed traceparent in a ZeroMQ submit is a protocol error, not a new trace.
    const refused = await link.request({
      type: "submit",
      pipeline: { graph: { first: [] }, jobs: { first: "traced" } },
      traceparent: "00-not-a-trace",
    }).then(() => "accepted", (error: Error) => error.message);
    assert(/traceparent/.test(refused), refused);
  } finally {
    await link.close();
  }
});
