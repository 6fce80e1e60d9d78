// BullMQ peer of `deno task bench:e2e` (Node 20, bullmq 6 + ioredis 5 from ./package.json).
//
// Contract (the same as bench/peers/celery/e2e.py):
//   node e2e.mjs worker <redisPort>
//     ONE process running one BullMQ Worker (concurrency 2) on the queue "bench-e2e" of the
//     Redis at 127.0.0.1:<redisPort>, serving the jobs "inc", "fan" and "join". Prints the
//     line `ready` on stdout once the worker is connected; on SIGTERM (or SIGINT) it closes the
//     worker and exits 0.
//   node e2e.mjs client <redisPort> <workload> <count> <runTag>
//     Runs one workload against that worker after an unmeasured warm-up, checks every
//     result and prints ONE JSON line on stdout; exits non-zero with a message on stderr if a
//     result is wrong or missing (or nothing finishes within 300 s).
//     w1  <count> single "inc" jobs, added at once (addBulk, chunks of 500), then wait for all:
//         {"workload":"w1","count":N,"seconds":S,"jobs_s":N/S}
//     w2  <count> chains inc -> inc -> inc as FlowProducer flows (C parent of B parent of A,
//         each parent reads its child's value with job.getChildrenValues()), added at once:
//         {"workload":"w2","count":N,"seconds":S,"pipelines_s":N/S}
//     w3  <count> such chains one after another (add, wait for C, next), after
//         500 more unmeasured:
//         {"workload":"w3","count":N,"p50_ms":..,"p99_ms":..,"mean_ms":..}
//     w4  <count> fan-outs 1 -> 20 -> 1 (inc, 20 x fan, join), added at once:
//         {"workload":"w4","count":N,"seconds":S,"pipelines_s":N/S}
//     <runTag> prefixes every job id of the run (":" becomes "_": BullMQ refuses it in ids); at
//     the end the client obliterates the queue (runs are sequential: one client at a time
//     against the worker, which keeps serving the queue afterwards), so nothing accumulates.
//     Jobs use BullMQ's defaults (completed jobs are kept until that clean-up).
//
// Waiting is event-driven: one QueueEvents stream, whose "completed"/"failed" events resolve
// the jobs the client waits for (it knows their ids in advance, as it picks them).
//
// W4: a BullMQ flow is a tree whose parent runs after its children, so "inc, then 20 fans of
// its output, then a join" is not one flow. We chose the worker-side step: the client adds the
// first "inc" as a plain job carrying `fanOut: 20`; when the worker's "inc" processor has its
// result it adds the flow (join parent of 20 fan children, each given that result) with a
// FlowProducer, under a join id derived from the first job's id, and the client waits for that
// join. This avoids a round trip through the client (QueueEvents -> client -> add flow) per
// pipeline, which is the other honest way.
import { FlowProducer, Queue, QueueEvents, Worker } from "bullmq";
import IORedis from "ioredis";

const QUEUE = "bench-e2e";
const FAN = 20;
const TIMEOUT_MS = 300_000;
/** Chains run one after another, unmeasured, before W3 measures. */
const SEQUENTIAL_WARM_UP = 500;

const [role, portText, workload, countText, runTag] = process.argv.slice(2);
const connection = {
  host: "127.0.0.1",
  port: Number(portText),
  maxRetriesPerRequest: null,
};

function fail(message) {
  process.stderr.write(`bullmq e2e: ${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Worker
// ---------------------------------------------------------------------------------------------

/** The single child value of a flow parent (B or C of a chain). */
async function childValue(job) {
  const values = Object.values(await job.getChildrenValues());
  if (values.length !== 1) {
    throw new Error(`job ${job.id}: ${values.length} children values`);
  }
  return values[0];
}

async function runWorker() {
  const flows = new FlowProducer({ connection });
  const processors = {
    async inc(job) {
      const n = job.data.n ?? (await childValue(job)).n;
      const out = { n: n + 1 };
      if (job.data.fanOut) { // W4's first step: start the fan-out with its output.
        await flows.add({
          name: "join",
          queueName: QUEUE,
          data: {},
          opts: { jobId: `${job.id}-join` },
          children: Array.from({ length: job.data.fanOut }, (_, i) => ({
            name: "fan",
            queueName: QUEUE,
            data: { n: out.n, i },
          })),
        });
      }
      return out;
    },
    fan(job) {
      return job.data.n + 1; // fan({n}, i) -> n + 1
    },
    async join(job) {
      const values = Object.values(await job.getChildrenValues());
      return { total: values.reduce((a, b) => a + b, 0), parts: values.length };
    },
  };
  const worker = new Worker(QUEUE, (job) => processors[job.name](job), {
    connection,
    concurrency: 2,
  });
  worker.on(
    "error",
    (err) => process.stderr.write(`bullmq worker error: ${err}\n`),
  );
  await worker.waitUntilReady();
  process.stdout.write("ready\n");
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    // If Redis is already gone, close() can wait for reconnects: don't outlive the harness.
    setTimeout(() => process.exit(0), 5000).unref();
    await worker.close();
    await flows.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/** Resolves awaited job ids from one QueueEvents stream. */
class Waiter {
  constructor(queueEvents) {
    this.pending = new Map(); // jobId -> { resolve, reject }
    queueEvents.on("completed", ({ jobId, returnvalue }) => {
      const p = this.pending.get(jobId);
      if (p) {
        this.pending.delete(jobId);
        p.resolve(returnvalue);
      }
    });
    queueEvents.on("failed", ({ jobId, failedReason }) => {
      const p = this.pending.get(jobId);
      if (p) {
        this.pending.delete(jobId);
        p.reject(new Error(`job ${jobId} failed: ${failedReason}`));
      }
    });
  }
  /** Must be called before the job is added (ids are picked by the client). */
  wait(jobId) {
    return new Promise((resolve, reject) =>
      this.pending.set(jobId, { resolve, reject })
    );
  }
}

function check(ok, what) {
  if (!ok) throw new Error(`wrong result: ${what}`);
}

async function runClient() {
  const count = Number(countText);
  if (!["w1", "w2", "w3", "w4"].includes(workload) || !(count > 0) || !runTag) {
    fail("usage: e2e.mjs client <redisPort> <w1|w2|w3|w4> <count> <runTag>");
  }
  const idPrefix = runTag.replaceAll(":", "_"); // BullMQ refuses custom ids with ":"
  // The events stream is trimmed to ~10,000 entries by default (about 4 per job): keep more,
  // so a QueueEvents reader that lags behind a large burst cannot lose "completed" events.
  const queue = new Queue(QUEUE, {
    connection,
    streams: { events: { maxLen: 100_000 } },
  });
  const flows = new FlowProducer({ connection });
  await Promise.all([queue.waitUntilReady(), flows.waitUntilReady()]);
  // QueueEvents' default start, "$", means "events after its first XREAD", which may come after
  // our first add: start instead right after the last event already in the stream.
  const redis = new IORedis(connection);
  const [last] = await redis.xrevrange(queue.keys.events, "+", "-", "COUNT", 1);
  redis.disconnect();
  const queueEvents = new QueueEvents(QUEUE, {
    connection,
    lastEventId: last?.[0] ?? "0-0",
  });
  await queueEvents.waitUntilReady();
  const waiter = new Waiter(queueEvents);
  const timer = setTimeout(
    () => fail(`${workload}: not finished after ${TIMEOUT_MS} ms`),
    TIMEOUT_MS,
  );

  const incJob = (id, n) => ({ name: "inc", data: { n }, opts: { jobId: id } });
  const chainFlow = (id, n) => ({
    name: "inc",
    queueName: QUEUE,
    data: {},
    opts: { jobId: id }, // C
    children: [{
      name: "inc",
      queueName: QUEUE,
      data: {}, // B
      children: [{ name: "inc", queueName: QUEUE, data: { n } }], // A
    }],
  });
  const fanOutJob = (id, n) => ({
    name: "inc",
    data: { n, fanOut: FAN },
    opts: { jobId: id },
  });

  async function singles(tag, ns) {
    const ids = ns.map((_, i) => `${idPrefix}-${tag}-${i}`);
    const done = Promise.all(ids.map((id) => waiter.wait(id)));
    for (let i = 0; i < ns.length; i += 500) {
      await queue.addBulk(
        ns.slice(i, i + 500).map((n, k) => incJob(ids[i + k], n)),
      );
    }
    return await done;
  }
  async function chains(tag, ns) {
    const ids = ns.map((_, i) => `${idPrefix}-${tag}-${i}`);
    const done = Promise.all(ids.map((id) => waiter.wait(id)));
    await flows.addBulk(ns.map((n, i) => chainFlow(ids[i], n)));
    return await done;
  }
  async function fanOuts(tag, ns) {
    const ids = ns.map((_, i) => `${idPrefix}-${tag}-${i}`);
    // Waiting for the first jobs too makes a failed one fail the run instead of hanging it.
    const firsts = Promise.all(ids.map((id) => waiter.wait(id)));
    const done = Promise.all(ids.map((id) => waiter.wait(`${id}-join`)));
    await queue.addBulk(ns.map((n, i) => fanOutJob(ids[i], n)));
    await firsts;
    return await done;
  }

  // Unmeasured warm-up: every function, every path, long enough for the steady state.
  await Promise.all([
    singles("warm1", Array.from({ length: 1000 }, (_, n) => n)),
    chains("warm2", Array.from({ length: 30 }, (_, n) => n)),
    fanOuts("warm4", [0, 1, 2]),
  ]);

  const ns = Array.from({ length: count }, (_, n) => n);
  let result;
  if (workload === "w1") {
    const started = performance.now();
    const done = await singles("w1", ns);
    const seconds = (performance.now() - started) / 1000;
    done.forEach((r, n) =>
      check(r?.n === n + 1, `w1 ${n}: ${JSON.stringify(r)}`)
    );
    result = { workload, count, seconds, jobs_s: count / seconds };
  } else if (workload === "w2") {
    const started = performance.now();
    const done = await chains("w2", ns);
    const seconds = (performance.now() - started) / 1000;
    done.forEach((r, n) =>
      check(r?.n === n + 3, `w2 ${n}: ${JSON.stringify(r)}`)
    );
    result = { workload, count, seconds, pipelines_s: count / seconds };
  } else if (workload === "w3") {
    // And the path W3 measures, one chain after another, as pipelinin's client does.
    for (let n = 0; n < SEQUENTIAL_WARM_UP; n++) {
      const [r] = await chains(`warm3-${n}`, [n]);
      check(r?.n === n + 3, `w3 warm-up ${n}: ${JSON.stringify(r)}`);
    }
    const latencies = [];
    for (let n = 0; n < count; n++) {
      const started = performance.now();
      const [r] = await chains(`w3-${n}`, [n]);
      latencies.push(performance.now() - started);
      check(r?.n === n + 3, `w3 ${n}: ${JSON.stringify(r)}`);
    }
    latencies.sort((a, b) => a - b);
    const at = (q) =>
      latencies[
        Math.min(latencies.length - 1, Math.floor(q * latencies.length))
      ];
    result = {
      workload,
      count,
      p50_ms: at(0.5),
      p99_ms: at(0.99),
      mean_ms: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    };
  } else {
    const started = performance.now();
    const done = await fanOuts("w4", ns);
    const seconds = (performance.now() - started) / 1000;
    done.forEach((r, n) =>
      check(
        r?.total === FAN * (n + 2) && r?.parts === FAN,
        `w4 ${n}: ${JSON.stringify(r)}`,
      )
    );
    result = { workload, count, seconds, pipelines_s: count / seconds };
  }
  clearTimeout(timer);

  // Clean up: remove every job and key of the queue (the worker keeps serving it afterwards).
  await queue.obliterate({ force: true });
  await Promise.all([queueEvents.close(), flows.close(), queue.close()]);
  process.stdout.write(JSON.stringify(result) + "\n");
}

const USAGE =
  "usage: e2e.mjs worker <redisPort> | client <redisPort> <workload> <count> <runTag>";
if (role === "worker" && portText) {
  await runWorker();
} else if (role === "client") {
  try {
    await runClient();
    process.exit(0);
  } catch (err) {
    fail(err?.stack ?? String(err));
  }
} else {
  fail(USAGE);
}
