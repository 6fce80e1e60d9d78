/**
 * The fields that map, when and wait add to the protocol, read within caps: a
 * hostile peer's frame is refused naming the field, never taken as it is.
 */
import { assert, assertEquals } from "../../tests/_assert.ts";
import { parseFromRouter, parseToRouter, PROTOCOL, ProtocolError } from "./mod.ts";

/** Frames of any message, as a hostile peer may send them. */
const frames = (message: Record<string, unknown>) => [
  new TextEncoder().encode(PROTOCOL),
  new TextEncoder().encode(JSON.stringify(message)),
];

function refused(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert(error instanceof ProtocolError, String(error));
    return error.message;
  }
  throw new Error("it parsed");
}

Deno.test("a signal request is read with its name checked and its payload an object", () => {
  const ok = parseToRouter(
    frames({ type: "signal", id: "r1", pipelineId: "p", name: "approved", payload: { ok: 1 } }),
  );
  assertEquals(ok, {
    type: "signal",
    id: "r1",
    pipelineId: "p",
    name: "approved",
    payload: { ok: 1 },
  });
  for (
    const [name, payload] of [
      ["has space", {}],
      ["x".repeat(101), {}],
      ["", {}],
      [3, {}],
      ["go", [1]],
      ["go", "yes"],
      ["go", undefined],
    ] as const
  ) {
    const message = refused(() =>
      parseToRouter(frames({ type: "signal", id: "r", pipelineId: "p", name, payload }))
    );
    assert(/"(name|payload)"/.test(message), message);
  }
});

Deno.test("a job-result's skipped and a job-request's empty fn (a wait job) are read; others refused", () => {
  const result = parseFromRouter(frames({
    type: "job-result",
    pipelineId: "p",
    jobId: "j",
    outcome: { ok: true, output: {}, durationMs: 0 },
    skipped: true,
  }));
  assertEquals(result.type === "job-result" && result.skipped, true);
  assert(
    refused(() =>
      parseFromRouter(frames({
        type: "job-result",
        pipelineId: "p",
        jobId: "j",
        outcome: { ok: true, output: {}, durationMs: 0 },
        skipped: "yes",
      }))
    ).includes('"skipped"'),
  );
  const request = parseToRouter(
    frames({ type: "job-request", pipelineId: "p", jobId: "w", fn: "", input: {} }),
  );
  assertEquals(request.type === "job-request" && request.fn, "");
  assert(
    refused(() =>
      parseToRouter(
        frames({
          type: "job-request",
          pipelineId: "p",
          jobId: "w",
          fn: "x".repeat(300),
          input: {},
        }),
      )
    ).includes('"fn"'),
  );
});

Deno.test("a pipeline-assign's job options are read only when valid", () => {
  const spec = {
    graph: { a: "b" },
    jobs: {
      a: { fn: "f", map: "list", mapConcurrency: 2, when: { path: "x", op: "exists" } },
      b: { wait: "go", timeoutMs: 10 },
    },
  };
  const assign = parseFromRouter(
    frames({ type: "pipeline-assign", pipelineId: "p", spec, jobs: [] }),
  );
  assertEquals(
    JSON.stringify(assign.type === "pipeline-assign" && assign.spec.jobs),
    JSON.stringify(spec.jobs),
  );
  let deep: unknown = { path: "x", op: "exists" };
  for (let i = 0; i < 10_000; i++) deep = { not: deep };
  for (
    const bad of [
      { a: { map: 1 } },
      { a: { when: deep } },
      { a: { wait: "go", fn: "f" } },
      { a: { colour: "red" } },
      { a: [] },
    ]
  ) {
    const message = refused(() =>
      parseFromRouter(frames({
        type: "pipeline-assign",
        pipelineId: "p",
        spec: { graph: { a: [] }, jobs: bad },
        jobs: [],
      }))
    );
    assert(message.includes("spec.jobs.a"), message);
  }
});

Deno.test("a job record's map summary, signal and wait deadline are read within their types", () => {
  const job = {
    jobId: "m",
    fn: "",
    status: "waiting",
    attempts: 0,
    map: { items: 3, pending: 1, running: 1, succeeded: 1, failed: 0, cancelled: 0 },
    signal: "go",
    waitUntil: 5,
  };
  const assign = parseFromRouter(frames({
    type: "pipeline-assign",
    pipelineId: "p",
    spec: { graph: { m: [] } },
    jobs: [job],
  }));
  assertEquals(
    JSON.stringify(assign.type === "pipeline-assign" && assign.jobs),
    JSON.stringify([job]),
  );
  for (const bad of [{ map: { items: -1 } }, { signal: "a b" }, { status: "asleep" }]) {
    const message = refused(() =>
      parseFromRouter(frames({
        type: "pipeline-assign",
        pipelineId: "p",
        spec: { graph: { m: [] } },
        jobs: [{ ...job, ...bad }],
      }))
    );
    assert(message.includes("jobs[0]"), message);
  }
});
