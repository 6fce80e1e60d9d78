import { assert, assertEquals } from "../../tests/_assert.ts";
import {
  encode,
  encodeBatches,
  encodeBody,
  MAX_PLAN_DEPTH,
  type Message,
  parseFileContent,
  parseFromRouter,
  parseToRouter,
  PROTOCOL,
  PROTOCOL_LIMITS,
  ProtocolError,
  splitBatch,
  treeHash,
} from "./mod.ts";
import { ErrorName } from "../errors.ts";

type Json = Record<string, unknown>;

/** The ProtocolError that `fn` throws. */
function protocolError(fn: () => unknown, what = ""): ProtocolError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw new Error(`${what}: expected a ProtocolError, got ${error}`);
  }
  throw new Error(`${what}: expected a ProtocolError, but it parsed`);
}

const error = { name: "RangeError", message: "no", stack: "at x", retryable: false };
const config = {
  requires: ["html"],
  permissions: { net: ["example.com"], read: true },
  timeoutMs: 1000,
  retries: 2,
};
const record = {
  jobId: "a",
  fn: "ok",
  status: "failed",
  attempts: 2,
  lastAttempt: 3,
  broker: "b1/host-0",
  output: { n: 1 },
  error,
  attemptErrors: [error],
  startedAt: 1,
  finishedAt: 2,
  durationMs: 1.5,
  retryAt: 9,
};

const SHA = "ab".repeat(32);

/** One valid message of every type, sent to the Router, with every optional field set. */
const TO_ROUTER: Json[] = [
  {
    type: "submit",
    id: "1",
    pipeline: { graph: { a: [] } },
    idempotencyKey: "k",
    waitMs: 100,
  },
  { type: "wait", id: "2", pipelineId: "p", timeoutMs: 50 },
  { type: "status", id: "3", pipelineId: "p" },
  { type: "cancel", id: "4", pipelineId: "p" },
  { type: "get-configuration", id: "5" },
  { type: "list-functions", id: "6" },
  {
    type: "broker-hello",
    id: "7",
    broker: { id: "b1", host: "h", pid: 12, slots: 2, prefetch: 1, of: "b0" },
    functions: [
      { name: "ok", config, source: "router", conflict: "other code here" },
      { name: "bad", config: {}, error, source: "local" },
    ],
  },
  { type: "pipeliner-hello", id: "8", pipeliner: { id: "p1", host: "h", pid: 3 } },
  { type: "fetch-file", id: "9", sha256: SHA },
  {
    type: "broker-status",
    load: {
      busy: 1,
      slots: 2,
      loadavg: 0.5,
      cpus: 2,
      memoryUsed: 10,
      memoryTotal: 20,
      rss: 5,
    },
  },
  { type: "broker-functions", functions: [{ name: "ok", config: {} }] },
  {
    type: "job-done",
    pipelineId: "p",
    jobId: "a",
    attempt: 1,
    outcome: { ok: true, output: { n: 2 }, durationMs: 1.2 },
    followed: { jobId: "b", attempt: 1 },
  },
  {
    type: "job-logs",
    pipelineId: "p",
    jobId: "a",
    attempt: 2,
    records: [
      { time: 1, level: "info", message: "hi", fields: { n: 1 } },
      { time: 2, level: "error", message: "" },
    ],
  },
  { type: "goodbye" },
  {
    type: "host-lost",
    host: "b1/host-0",
    pid: 9,
    error,
    running: { pipelineId: "p", jobId: "a", attempt: 1 },
  },
  { type: "pipeliner-status", active: 3 },
  {
    type: "job-request",
    pipelineId: "p",
    jobId: "a",
    fn: "ok",
    input: { n: 1 },
    plan: { run: [{ jobId: "b", finish: true }], finish: false },
  },
  { type: "pipeline-finish", pipelineId: "p", status: "succeeded", document: { n: 1 } },
];

/** One valid message of every type, sent by the Router. */
const FROM_ROUTER: Json[] = [
  { type: "reply", id: "1", ok: true, result: { pipelineId: "p" } },
  {
    type: "reply",
    id: "2",
    ok: false,
    error: { name: ErrorName.PipelineValidation, message: "m", retryable: false, problems: ["x"] },
  },
  {
    type: "job-run",
    pipelineId: "p",
    jobId: "a",
    fn: "ok",
    attempt: 1,
    input: { n: 1 },
    then: { jobId: "b", fn: "ok", attempt: 1, then: { jobId: "c", fn: "ok", attempt: 2 } },
  },
  { type: "job-cancel", pipelineId: "p", jobId: "a", attempt: 2 },
  {
    type: "pipeline-assign",
    pipelineId: "p",
    spec: {
      graph: { a: "b", b: [] },
      data: { n: 1 },
      jobs: { a: "ok", b: "ok" },
      deadlineMs: 1000,
    },
    jobs: [record, { jobId: "b", fn: "ok", status: "pending", attempts: 0 }],
  },
  {
    type: "job-result",
    pipelineId: "p",
    jobId: "a",
    outcome: { ok: false, error, durationMs: 3 },
  },
  { type: "pipeline-cancel", pipelineId: "p" },
  { type: "hello-again" },
  {
    type: "functions-manifest",
    tree: SHA,
    files: [
      { path: "f.ts", sha256: SHA, size: 10 },
      { path: "lib/x.ts", sha256: SHA, size: 0 },
      { path: "_util/@scope+pkg/a-b_c.1.js", sha256: SHA, size: 3 },
    ],
    functions: [{ name: "f", entry: "f.ts" }],
  },
  { type: "error", error: { name: ErrorName.Protocol, message: "bad", retryable: false } },
];

const frames = (message: Json) => [new TextEncoder().encode(PROTOCOL), encodeJson(message)];
const encodeJson = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function parse(message: Json): unknown {
  const direction = TO_ROUTER.some((m) => m.type === message.type)
    ? parseToRouter
    : parseFromRouter;
  return direction(frames(message));
}

/** A deep copy of `message` with the field at `path` (dots; digits index lists) set or removed. */
function withField(message: Json, path: string, value: unknown): Json {
  const copy = structuredClone(message);
  const keys = path.split(".");
  let at: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  if (value === undefined) delete at[keys.at(-1)!];
  else at[keys.at(-1)!] = value;
  return copy;
}

Deno.test("every message parses back to what was encoded, optional fields and all", () => {
  for (const message of [...TO_ROUTER, ...FROM_ROUTER]) {
    assertEquals(parse(message), message, String(message.type));
  }
});

Deno.test("optional fields left out stay out, and unknown fields are dropped", () => {
  const parsed = parseToRouter(frames({
    type: "job-done",
    pipelineId: "p",
    jobId: "a",
    attempt: 1,
    outcome: { ok: true, output: { big: [1, 2] }, durationMs: 1, extra: 1 },
    extra: true,
  }));
  assertEquals(parsed, {
    type: "job-done",
    pipelineId: "p",
    jobId: "a",
    attempt: 1,
    outcome: { ok: true, output: { big: [1, 2] }, durationMs: 1 },
  });
  assert(!("followed" in parsed));
});

Deno.test("inputs, outputs and documents are taken as they are, not copied", () => {
  const input = { deep: { list: [1, { x: "y" }] } };
  const [, body] = encode({
    type: "job-run",
    pipelineId: "p",
    jobId: "a",
    fn: "f",
    attempt: 1,
    input,
  });
  const parsed = parseFromRouter([new TextEncoder().encode(PROTOCOL), body!]);
  assert(parsed.type === "job-run");
  assertEquals(parsed.input, input);
});

/** [message type, field path, bad value (undefined: left out), the path the error names]. */
const BAD_FIELDS: Array<[string, string, unknown, string?]> = [
  ["submit", "pipeline", undefined],
  ["submit", "pipeline", [1]],
  ["submit", "idempotencyKey", 5],
  ["submit", "waitMs", -1],
  ["wait", "pipelineId", undefined],
  ["wait", "timeoutMs", "soon"],
  ["status", "pipelineId", ""],
  ["cancel", "pipelineId", 3],
  ["broker-hello", "broker", undefined],
  ["broker-hello", "broker.id", undefined],
  ["broker-hello", "broker.host", 1],
  ["broker-hello", "broker.pid", "12"],
  ["broker-hello", "broker.slots", -1],
  ["broker-hello", "broker.slots", 1.5],
  ["broker-hello", "broker.prefetch", "1"],
  ["broker-hello", "broker.of", 0],
  ["broker-hello", "functions", {}],
  ["broker-hello", "functions.0.name", undefined, "functions[0].name"],
  ["broker-hello", "functions.0.config", undefined, "functions[0].config"],
  ["broker-hello", "functions.0.config.requires", "html", "functions[0].config.requires"],
  [
    "broker-hello",
    "functions.0.config.permissions.net",
    "x",
    "functions[0].config.permissions.net",
  ],
  ["broker-hello", "functions.0.config.timeoutMs", "1", "functions[0].config.timeoutMs"],
  ["broker-hello", "functions.0.config.retries", 0.5, "functions[0].config.retries"],
  ["broker-hello", "functions.1.error.message", undefined, "functions[1].error.message"],
  ["pipeliner-hello", "pipeliner.pid", undefined],
  ["pipeliner-hello", "pipeliner.host", undefined],
  ["broker-status", "load", 1],
  ["broker-status", "load.busy", undefined],
  ["broker-status", "load.loadavg", "high"],
  ["broker-status", "load.rss", -5],
  ["broker-functions", "functions", undefined],
  ["job-done", "pipelineId", undefined],
  ["job-done", "jobId", undefined],
  ["job-done", "attempt", -1],
  ["job-done", "outcome", undefined],
  ["job-done", "outcome.ok", "yes"],
  ["job-done", "outcome.output", [1]],
  ["job-done", "outcome.durationMs", undefined],
  ["job-done", "followed.jobId", undefined],
  ["job-done", "followed.attempt", "1"],
  ["job-logs", "attempt", undefined],
  ["job-logs", "records", undefined],
  ["job-logs", "records", {}],
  ["job-logs", "records.0.level", "fatal", "records[0].level"],
  ["job-logs", "records.0.time", -1, "records[0].time"],
  ["job-logs", "records.0.message", 5, "records[0].message"],
  ["job-logs", "records.0.fields", [1], "records[0].fields"],
  ["host-lost", "host", undefined],
  ["host-lost", "pid", undefined],
  ["host-lost", "error", "boom"],
  ["host-lost", "error.name", undefined],
  ["host-lost", "error.retryable", "no"],
  ["host-lost", "error.stack", 5],
  ["host-lost", "running.pipelineId", undefined],
  ["host-lost", "running.attempt", undefined],
  ["pipeliner-status", "active", "3"],
  ["job-request", "fn", undefined],
  ["job-request", "input", "x"],
  ["job-request", "plan", 5],
  ["job-request", "plan.finish", "yes"],
  ["job-request", "plan.run", {}],
  ["job-request", "plan.run.0.jobId", 7, "plan.run[0].jobId"],
  ["job-request", "plan.run.0.finish", 1, "plan.run[0].finish"],
  ["pipeline-finish", "status", "running"],
  ["pipeline-finish", "document", null],
  ["reply", "id", undefined],
  ["reply", "ok", undefined],
  ["reply", "error", undefined],
  ["reply", "error.problems", "x"],
  ["reply", "error.problems.0", 1, "error.problems[0]"],
  ["job-run", "attempt", undefined],
  ["job-run", "input", undefined],
  ["job-run", "then.fn", undefined],
  ["job-run", "then.then.attempt", -2],
  ["job-run", "alone", "yes"],
  ["job-cancel", "attempt", "2"],
  ["job-cancel", "jobId", undefined],
  ["pipeline-assign", "spec", undefined],
  ["pipeline-assign", "spec.graph", undefined],
  ["pipeline-assign", "spec.graph.a", 1],
  ["pipeline-assign", "spec.data", [1]],
  ["pipeline-assign", "spec.jobs.a", 1],
  ["pipeline-assign", "spec.deadlineMs", "1"],
  ["pipeline-assign", "jobs", undefined],
  ["pipeline-assign", "jobs.0.status", "lost", "jobs[0].status"],
  ["pipeline-assign", "jobs.0.attempts", undefined, "jobs[0].attempts"],
  ["pipeline-assign", "jobs.0.output", 1, "jobs[0].output"],
  ["pipeline-assign", "jobs.0.attemptErrors.0", "e", "jobs[0].attemptErrors[0]"],
  ["pipeline-assign", "jobs.0.retryAt", "later", "jobs[0].retryAt"],
  ["job-result", "outcome.error", undefined],
  ["job-result", "outcome.error.message", 1],
  ["pipeline-cancel", "pipelineId", undefined],
  ["error", "error", undefined],
  ["error", "error.name", 1],
  ["pipeliner-hello", "pipeliner", undefined],
  ["pipeliner-hello", "pipeliner.id", ""],
  ["broker-status", "load.slots", undefined],
  ["broker-status", "load.cpus", 1.5],
  ["broker-status", "load.memoryUsed", "1"],
  ["broker-status", "load.memoryTotal", undefined],
  ["broker-hello", "functions.0.config.permissions", true, "functions[0].config.permissions"],
  [
    "broker-hello",
    "functions.0.config.permissions.read",
    [1],
    "functions[0].config.permissions.read[0]",
  ],
  [
    "broker-hello",
    "functions.0.config.permissions.write",
    "x",
    "functions[0].config.permissions.write",
  ],
  [
    "broker-hello",
    "functions.0.config.permissions.env",
    1,
    "functions[0].config.permissions.env",
  ],
  ["broker-hello", "functions.1.error.name", undefined, "functions[1].error.name"],
  ["broker-hello", "functions.1.error.retryable", undefined, "functions[1].error.retryable"],
  ["broker-functions", "functions.0.name", "", "functions[0].name"],
  ["broker-functions", "functions.0.config", [], "functions[0].config"],
  // A limit of 0 would hold a function's jobs for ever; a broker is a peer like any other.
  ["broker-functions", "functions.0.config.concurrency", 0, "functions[0].config.concurrency"],
  ["broker-functions", "functions.0.config.concurrency", 1.5, "functions[0].config.concurrency"],
  [
    "broker-functions",
    "functions.0.config.concurrencyKey",
    "",
    "functions[0].config.concurrencyKey",
  ],
  ["broker-functions", "functions.0.config.rateLimit", "5/s", "functions[0].config.rateLimit"],
  [
    "broker-functions",
    "functions.0.config.rateLimit",
    { max: 0, perMs: 1000 },
    "functions[0].config.rateLimit.max",
  ],
  [
    "broker-functions",
    "functions.0.config.rateLimit",
    { max: 5, perMs: 2 ** 40 },
    "functions[0].config.rateLimit.perMs",
  ],
  ["pipeline-assign", "spec.priority", "high"],
  ["pipeline-assign", "spec.runAt", true],
  ["host-lost", "error.message", undefined],
  ["host-lost", "running", "a"],
  ["host-lost", "running.jobId", undefined],
  ["job-request", "pipelineId", undefined],
  ["job-request", "jobId", ""],
  ["pipeline-finish", "pipelineId", undefined],
  ["job-run", "pipelineId", undefined],
  ["job-run", "jobId", undefined],
  ["job-run", "fn", 1],
  ["job-run", "then", 1],
  ["job-run", "then.jobId", undefined],
  ["job-run", "then.attempt", 1.5],
  ["job-cancel", "pipelineId", undefined],
  ["pipeline-assign", "pipelineId", undefined],
  ["pipeline-assign", "spec.graph.b", [1], "spec.graph.b[0]"],
  ["pipeline-assign", "jobs.0.jobId", undefined, "jobs[0].jobId"],
  ["pipeline-assign", "jobs.0.fn", 1, "jobs[0].fn"],
  ["pipeline-assign", "jobs.0.lastAttempt", -1, "jobs[0].lastAttempt"],
  ["pipeline-assign", "jobs.0.broker", 1, "jobs[0].broker"],
  ["pipeline-assign", "jobs.0.error", "e", "jobs[0].error"],
  ["pipeline-assign", "jobs.0.startedAt", "t", "jobs[0].startedAt"],
  ["pipeline-assign", "jobs.0.finishedAt", "t", "jobs[0].finishedAt"],
  ["pipeline-assign", "jobs.0.durationMs", -1, "jobs[0].durationMs"],
  ["job-result", "pipelineId", undefined],
  ["job-result", "jobId", undefined],
  ["job-result", "outcome.durationMs", "1"],
  ["reply", "error.name", undefined],
  ["reply", "error.retryable", 0],
  ["broker-hello", "functions.0.source", "elsewhere", "functions[0].source"],
  ["broker-hello", "functions.0.conflict", 7, "functions[0].conflict"],
  ["fetch-file", "sha256", undefined],
  ["fetch-file", "sha256", "AB".repeat(32)],
  ["fetch-file", "sha256", "ab"],
  ["functions-manifest", "tree", undefined],
  ["functions-manifest", "tree", "x"],
  ["functions-manifest", "files", {}],
  ["functions-manifest", "files.0.path", undefined, "files[0].path"],
  ["functions-manifest", "files.0.path", "../x.ts", "files[0].path"],
  ["functions-manifest", "files.0.path", "lib/../../x.ts", "files[0].path"],
  ["functions-manifest", "files.0.path", "/etc/passwd", "files[0].path"],
  ["functions-manifest", "files.0.path", "a\0.ts", "files[0].path"],
  ["functions-manifest", "files.0.path", "lib\\x.ts", "files[0].path"],
  ["functions-manifest", "files.0.path", ".hidden.ts", "files[0].path"],
  ["functions-manifest", "files.0.path", "lib//x.ts", "files[0].path"],
  ["functions-manifest", "files.0.path", "lib/", "files[0].path"],
  ["functions-manifest", "files.0.path", "a b.ts", "files[0].path"],
  ["functions-manifest", "files.0.path", "x".repeat(2000), "files[0].path"],
  ["functions-manifest", "files.0.sha256", "nope", "files[0].sha256"],
  ["functions-manifest", "files.0.size", -1, "files[0].size"],
  ["functions-manifest", "files.0.size", 2 * 1024 * 1024, "files[0].size"],
  ["functions-manifest", "files.1.path", "f.ts", "files[1].path"],
  ["functions-manifest", "files.1.path", "f.ts/x.ts", "files[1].path"],
  ["functions-manifest", "functions", undefined],
  ["functions-manifest", "functions.0.name", "", "functions[0].name"],
  ["functions-manifest", "functions.0.entry", "g.ts", "functions[0].entry"],
  ["functions-manifest", "functions.0.entry", "lib/x.ts", "functions[0].entry"],
  ["functions-manifest", "functions.0.entry", "f.py", "functions[0].entry"],
];

Deno.test("a malformed field of any message fails with a ProtocolError that names it", () => {
  const valid = [...TO_ROUTER, ...FROM_ROUTER];
  for (const [type, path, value, named = path] of BAD_FIELDS) {
    const base = type === "reply" ? FROM_ROUTER[1]! : valid.find((m) => m.type === type)!;
    const bad = withField(base, path, value);
    const error = protocolError(() => parse(bad), `${type} ${path}`);
    assertEquals(error.field, named, `${type} ${path}: ${error.message}`);
    assertEquals(error.name, ErrorName.Protocol);
    assert(error.message.includes(`"${named}"`), error.message);
    assert(error.message.includes(`"${type}"`), error.message);
    const top = named.split(/[.[]/)[0]!;
    assert(error.message.includes(`invalid "${top}"`), error.message);
    if ("id" in base && type !== "reply") assertEquals(error.requestId, base.id);
  }
});

Deno.test("every message type of both directions has a bad-field case", () => {
  const covered = new Set(BAD_FIELDS.map(([type]) => type));
  const simple = ["get-configuration", "list-functions", "goodbye", "hello-again"];
  for (const message of [...TO_ROUTER, ...FROM_ROUTER]) {
    const type = String(message.type);
    assert(covered.has(type) || simple.includes(type), type);
  }
});

Deno.test("plans and followers nested too deep are malformed", () => {
  let plan: Json = {};
  for (let i = 0; i <= MAX_PLAN_DEPTH; i++) plan = { run: [{ jobId: `j${i}`, ...plan }] };
  const request = { type: "job-request", pipelineId: "p", jobId: "a", fn: "f", input: {}, plan };
  const error = protocolError(() => parse(request));
  assert(error.message.includes('invalid "plan"'), error.message);
  let then: Json | undefined;
  for (let i = 0; i < MAX_PLAN_DEPTH; i++) {
    then = { jobId: `j${i}`, fn: "f", attempt: 1, ...(then ? { then } : {}) };
  }
  const run = { type: "job-run", pipelineId: "p", jobId: "a", fn: "f", attempt: 1, input: {} };
  assertEquals(parse({ ...run, then }), { ...run, then }); // 16 deep is fine.
  const deeper = { ...run, then: { jobId: "top", fn: "f", attempt: 1, then } };
  assert(protocolError(() => parse(deeper)).message.includes('invalid "then"'));
});

Deno.test("a message that is no message of its direction fails with a clear ProtocolError", () => {
  const tag = new TextEncoder().encode(PROTOCOL);
  const cases: Array<[Uint8Array[], string, string?]> = [
    [[tag], "Expected 2 frames"],
    [[new TextEncoder().encode("http/1.1"), encodeJson({ type: "goodbye" })], "Unknown protocol"],
    [[tag, new TextEncoder().encode("{nope")], "Malformed JSON"],
    [[tag, new Uint8Array([0xff, 0xfe])], "UTF-8"],
    [[tag, encodeJson([1])], "JSON object"],
    [[tag, encodeJson({ id: "x" })], 'no string "type"', "x"],
    [[tag, encodeJson({ type: "explode", id: "y" })], "Unknown message type", "y"],
    [[tag, encodeJson({ type: "toString", id: "y" })], "Unknown message type", "y"],
    [[tag, encodeJson({ type: "status", pipelineId: "p" })], 'no string "id"'],
    [[tag, encodeJson({ type: "job-run", pipelineId: "p" })], "Unknown message type"],
  ];
  for (const [input, expected, requestId] of cases) {
    const error = protocolError(() => parseToRouter(input), expected);
    assert(error.message.includes(expected), `${expected}: ${error.message}`);
    assertEquals(error.requestId, requestId);
  }
  const toRouter = protocolError(() => parseFromRouter(frames({ type: "submit" })));
  assert(toRouter.message.includes("Unknown message type"));
});

Deno.test("encoding is the documented wire format: the tag, then one JSON frame per message", () => {
  const message: Message = { type: "status", id: "1", pipelineId: "p" };
  const [tag, body] = encode(message);
  assertEquals(new TextDecoder().decode(tag), "pipelinin/1");
  assertEquals(new TextDecoder().decode(body), '{"type":"status","id":"1","pipelineId":"p"}');
  assertEquals(encodeBody(message), body);
  const bodies = Array.from({ length: 300 }, () => body!);
  const batches = encodeBatches(bodies);
  assertEquals(batches.map((b) => b.length), [257, 45]);
  const split = splitBatch(batches[0]!);
  assertEquals(split.length, 256);
  assertEquals(parseToRouter(split[0]!), message);
  const single = [tag!, body!];
  assert(splitBatch(single)[0] === single, "a plain message is not copied");
});

Deno.test("ids, lists and plans over the protocol's caps are malformed; at the cap they parse", () => {
  const { maxIdLength, maxFunctions, maxJobs } = PROTOCOL_LIMITS;
  const long = "x".repeat(maxIdLength + 1);
  const atCap = "x".repeat(maxIdLength);
  const fn = { name: "f", config: {} };
  const cases: Array<[string, Json, string]> = [
    ["a long pipelineId", { type: "status", id: "1", pipelineId: long }, '"pipelineId"'],
    ["a long request id", { type: "status", id: long, pipelineId: "p" }, '"id"'],
    [
      "a long idempotency key",
      { type: "submit", id: "1", pipeline: {}, idempotencyKey: long },
      '"idempotencyKey"',
    ],
    [
      "a long jobId in job-done",
      {
        type: "job-done",
        pipelineId: "p",
        jobId: long,
        attempt: 1,
        outcome: { ok: true, output: {}, durationMs: 1 },
      },
      '"jobId"',
    ],
    ["a long fn in job-run", {
      type: "job-run",
      pipelineId: "p",
      jobId: "a",
      fn: long,
      attempt: 1,
      input: {},
    }, '"fn"'],
    [
      "too many functions in a hello",
      {
        type: "broker-hello",
        id: "1",
        broker: { id: "b", host: "h", pid: 1, slots: 1 },
        functions: new Array(maxFunctions + 1).fill(fn),
      },
      `at most ${maxFunctions}`,
    ],
    [
      "too many functions in broker-functions",
      { type: "broker-functions", functions: new Array(maxFunctions + 1).fill(fn) },
      `at most ${maxFunctions}`,
    ],
    [
      "a plan of too many jobs over its levels",
      {
        type: "job-request",
        pipelineId: "p",
        jobId: "a",
        fn: "f",
        input: {},
        plan: { run: [{ jobId: "b", run: new Array(maxJobs).fill({ jobId: "c" }) }] },
      },
      `at most ${maxJobs} jobs`,
    ],
    [
      "too many job records",
      {
        type: "pipeline-assign",
        pipelineId: "p",
        spec: { graph: { a: [] } },
        jobs: new Array(maxJobs + 1).fill({ jobId: "a", fn: "f", status: "pending", attempts: 0 }),
      },
      `at most ${maxJobs}`,
    ],
  ];
  for (const [name, message, named] of cases) {
    const error = protocolError(() => parse(message), name);
    assert(error.message.includes(named), `${name}: ${error.message}`);
  }
  assertEquals(parse({ type: "status", id: atCap, pipelineId: atCap }), {
    type: "status",
    id: atCap,
    pipelineId: atCap,
  });
  const hello = {
    type: "broker-functions",
    functions: new Array(maxFunctions).fill(fn),
  };
  assertEquals((parse(hello) as { functions: unknown[] }).functions.length, maxFunctions);
});

Deno.test("an error's long message, stack, name and problems are cut with a marker, not refused", () => {
  const { maxErrorMessage, maxErrorStack, maxProblems } = PROTOCOL_LIMITS;
  const huge = "m".repeat(20 * 1024 * 1024);
  const done = parse({
    type: "job-done",
    pipelineId: "p",
    jobId: "a",
    attempt: 1,
    outcome: {
      ok: false,
      durationMs: 1,
      error: { name: "n".repeat(1000), message: huge, stack: huge, retryable: false },
    },
  }) as { outcome: { error: { name: string; message: string; stack: string } } };
  const { name, message, stack } = done.outcome.error;
  assert(message.startsWith("m".repeat(maxErrorMessage) + "... ["), message.slice(-80));
  assert(message.endsWith(`[${huge.length - maxErrorMessage} more characters cut]`));
  assert(message.length < maxErrorMessage + 100);
  assert(stack.length < maxErrorStack + 100 && stack.endsWith("more characters cut]"));
  assert(name.length < PROTOCOL_LIMITS.maxIdLength + 100 && name.endsWith("cut]"));
  const problems = Array.from({ length: 1000 }, (_, i) => `problem ${i}`);
  const reply = parse({
    type: "reply",
    id: "1",
    ok: false,
    error: { name: "PipelineValidationError", message: "bad", retryable: false, problems },
  }) as { error: { problems: string[] } };
  assertEquals(reply.error.problems.length, maxProblems);
  assertEquals(reply.error.problems.at(-2), `problem ${maxProblems - 2}`);
  assertEquals(reply.error.problems.at(-1), `...and ${1000 - maxProblems + 1} more problems`);
});

Deno.test("a manifest over its caps, with an entry not among its files, or a bad file reply is malformed", () => {
  const { maxShippedFiles, maxShippedFileBytes } = PROTOCOL_LIMITS;
  const manifest = (files: Json[], functions: Json[] = []) => ({
    type: "functions-manifest",
    tree: SHA,
    files,
    functions,
  });
  const file = (path: string, size = 1) => ({ path, sha256: SHA, size });
  const many = Array.from({ length: maxShippedFiles + 1 }, (_, i) => file(`f${i}.ts`));
  const big = Array.from({ length: 17 }, (_, i) => file(`f${i}.ts`, maxShippedFileBytes));
  const cases: Array<[string, Json, string]> = [
    ["too many files", manifest(many), `at most ${maxShippedFiles}`],
    ["too many bytes together", manifest(big), "bytes together"],
    ["an entry not shipped", manifest([file("g.ts")], [{ name: "f", entry: "f.ts" }]), "one of"],
    [
      "a function listed twice",
      manifest([file("f.ts")], [{ name: "f", entry: "f.ts" }, { name: "f", entry: "f.ts" }]),
      "listed once",
    ],
  ];
  for (const [name, message, named] of cases) {
    const error = protocolError(() => parse(message), name);
    assert(error.message.includes(named), `${name}: ${error.message}`);
  }
  assertEquals(parseFileContent({ sha256: SHA, data: "aGk=" }), { sha256: SHA, data: "aGk=" });
  const badReplies: unknown[] = [
    null,
    { sha256: SHA },
    { sha256: SHA, data: 5 },
    { sha256: SHA, data: "not base64!" },
    { sha256: SHA, data: "A".repeat(Math.ceil(maxShippedFileBytes / 3) * 4 + 4) },
    { sha256: "x", data: "" },
  ];
  for (const bad of badReplies) {
    const error = protocolError(() => parseFileContent(bad), JSON.stringify(bad).slice(0, 60));
    assert(error.message.includes('"fetch-file reply"'), error.message);
  }
});

Deno.test("a tree's hash depends on its files, not on their order", async () => {
  const a = { path: "a.ts", sha256: SHA, size: 1 };
  const b = { path: "lib/b.ts", sha256: "cd".repeat(32), size: 2 };
  assertEquals(await treeHash([a, b]), await treeHash([b, a]));
  assert(await treeHash([a, b]) !== await treeHash([a, { ...b, size: 3 }]));
  assert(await treeHash([a]) !== await treeHash([{ ...a, path: "c.ts" }]));
});

Deno.test("job-logs holds at most maxLogRecords records, each message cut at maxLogMessage", () => {
  const logs = (records: unknown[]) => ({
    type: "job-logs",
    pipelineId: "p",
    jobId: "a",
    attempt: 1,
    records,
  });
  const line = { time: 1, level: "info", message: "x" };
  const many = Array(PROTOCOL_LIMITS.maxLogRecords + 1).fill(line);
  const refused = protocolError(() => parseToRouter(frames(logs(many))), "too many records");
  assert(/records/.test(refused.message), refused.message);
  const full = parseToRouter(frames(logs(many.slice(1))));
  assert(full.type === "job-logs" && full.records.length === PROTOCOL_LIMITS.maxLogRecords);
  const long = "y".repeat(PROTOCOL_LIMITS.maxLogMessage + 10);
  const cut = parseToRouter(frames(logs([{ ...line, message: long }])));
  assert(cut.type === "job-logs");
  const message = cut.records[0]!.message;
  assert(message.startsWith("y".repeat(PROTOCOL_LIMITS.maxLogMessage)), "kept its start");
  assert(message.endsWith("... [10 more characters cut]"), message.slice(-40));
});
