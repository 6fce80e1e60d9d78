// deno-lint-ignore-file no-console -- a benchmark prints its table and JSON line
/**
 * `deno task bench:e2e`: pipelinin side by side with BullMQ and Celery on the same
 * machine, each with 2 worker slots, trivial functions (input plus one), every
 * result checked. Sets up and stops everything it compares: a Redis of its own on a
 * loopback port, a BullMQ worker (one Node process, concurrency 2), a Celery worker
 * (prefork, concurrency 2), a pipelinin cluster as `deno task start` runs it (the
 * Router, a Pipeliner and a Broker with `--workers 2` in one process, its worker hosts
 * apart).
 *
 * pipelinin runs twice: on its embedded SQLite store, and on PostgreSQL (a temp
 * server of Debian's `postgresql`, fsync on, on a loopback port; the Router's
 * acknowledgements wait for its commits there).
 *
 * - W1: 2,000 single-job pipelines submitted at once; jobs/s.
 * - W2: 500 chains of 3 dependent jobs; pipelines/s.
 * - W3: 200 chains of 3, one after another; p50 and p99 latency, ms.
 * - W4: 50 fan-outs 1 -> 20 -> 1; pipelines/s.
 *
 * Median of 3 repetitions (min and max shown), system order rotated; RSS of each
 * system's processes idle (started, before the first workload) and at its peak.
 * Writes bench/RESULTS.md; the last line printed is JSON.
 *
 * @module
 */
import { Cluster } from "../tests/_cluster.ts";
import { TempPostgres } from "../tests/_postgres.ts";
import { Child, freePort, machine, median, output, report } from "./_lib/process.ts";
import { RssSampler, treeRss } from "./_lib/rss.ts";

const here = new URL(".", import.meta.url).pathname;
const REPS = Number(Deno.env.get("BENCH_REPS") ?? 3);
const WORKLOADS = [
  { id: "w1", count: 2000, key: "jobs_s", label: "W1 single jobs/s", better: "higher" },
  { id: "w2", count: 500, key: "pipelines_s", label: "W2 3-chains/s", better: "higher" },
  { id: "w3", count: 200, key: "p50_ms", label: "W3 chain p50 ms", better: "lower" },
  { id: "w3", count: 200, key: "p99_ms", label: "W3 chain p99 ms", better: "lower" },
  { id: "w4", count: 50, key: "pipelines_s", label: "W4 1->20->1/s", better: "higher" },
] as const;
const OUT_KEYS = [
  "w1_jobs_s",
  "w2_pipelines_s",
  "w3_p50_ms",
  "w3_p99_ms",
  "w4_pipelines_s",
] as const;

type Figures = Record<(typeof OUT_KEYS)[number], number> & {
  idle_rss_mb: number;
  rss_mb: number;
};
/** How long a started system is left alone before its idle RSS is read, ms. */
const IDLE_MS = 2000;

interface System {
  name: "pipelinin" | "pipelinin-pg" | "bullmq" | "celery";
  /** Starts the system's workers; returns pids to measure, a client command, and a stop. */
  start(): Promise<
    {
      pids: () => number[];
      client: (w: string, n: number) => [string, string[]];
      stop(): Promise<void>;
    }
  >;
}

/** Installs what the peers need when it is missing: Debian packages (as root), npm packages. */
async function ensurePeers(): Promise<void> {
  // A missing program makes spawning throw at once, not reject.
  const has = async (command: string, args: string[]) => {
    try {
      return (await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output())
        .success;
    } catch {
      return false;
    }
  };
  const missing = [
    ...(await has("redis-server", ["--version"]) ? [] : ["redis-server"]),
    ...(await has("/usr/bin/python3", ["-c", "import celery, redis"])
      ? []
      : ["python3-celery", "python3-redis"]),
  ];
  if (missing.length > 0) {
    console.error(`Installing ${missing.join(", ")} with apt-get`);
    await output("apt-get", ["update", "-q"]);
    await output("apt-get", ["install", "-y", "-q", ...missing]);
  }
  try {
    await Deno.stat(`${here}peers/bullmq/node_modules/bullmq/package.json`);
  } catch {
    await output("npm", ["ci", "--no-audit", "--no-fund"], `${here}peers/bullmq`);
  }
}

let redisPort = 0;
let tag = 0;

function pipelininOn(name: "pipelinin" | "pipelinin-pg"): System {
  return {
    name,
    async start() {
      Deno.env.set("PIPELININ_LOG_LEVEL", "warning");
      const pg = name === "pipelinin-pg" ? await TempPostgres.start({ fsync: true }) : undefined;
      let cluster: Cluster;
      try {
        cluster = await Cluster.start({
          functionsDir: "bench/functions",
          workers: 2,
          waitFor: ["inc", "fan", "join"],
          oneProcess: true,
          ...(pg ? { store: pg.url } : {}),
        });
      } catch (error) {
        await pg?.[Symbol.asyncDispose]();
        throw error;
      }
      return {
        pids: () => [cluster.router.pid, ...(pg?.pid ? [pg.pid] : [])],
        client: (w, n) => [Deno.execPath(), [
          "run",
          "--allow-all",
          `${here}e2e_client.ts`,
          cluster.api,
          cluster.broadcast,
          w,
          String(n),
        ]],
        stop: async () => {
          await cluster[Symbol.asyncDispose]();
          await pg?.[Symbol.asyncDispose]();
        },
      };
    },
  };
}

function peer(name: "bullmq" | "celery", command: string, script: string): System {
  return {
    name,
    async start() {
      const worker = new Child(`${name} worker`, command, [script, "worker", String(redisPort)]);
      if ((await worker.line()) !== "ready") throw new Error(`${name} worker did not start`);
      return {
        pids: () => [worker.pid, redis!.pid],
        client: (
          w,
          n,
        ) => [command, [script, "client", String(redisPort), w, String(n), `run${tag++}`]],
        stop: () => worker.stop(),
      };
    },
  };
}

async function runSystem(system: System): Promise<Figures> {
  const running = await system.start();
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const idle = treeRss(running.pids());
  const sampler = new RssSampler(running.pids);
  try {
    const got: Record<string, number> = {};
    for (const id of ["w1", "w2", "w3", "w4"]) {
      const count = WORKLOADS.find((w) => w.id === id)!.count;
      const [command, args] = running.client(id, count);
      const client = new Child(`${system.name} client ${id}`, command, args);
      const result = JSON.parse(await client.line()) as Record<string, number>;
      if ((await client.exit()) !== 0) throw new Error(`${system.name} ${id} failed`);
      for (const [key, value] of Object.entries(result)) got[`${id}_${key}`] = value;
      console.error(`${system.name} ${id}: ${JSON.stringify(result)}`);
    }
    const figures = Object.fromEntries(OUT_KEYS.map((k) => [k, got[k]!])) as Figures;
    figures.idle_rss_mb = idle / 2 ** 20;
    figures.rss_mb = sampler.peak / 2 ** 20;
    return figures;
  } finally {
    sampler.stop();
    await running.stop();
  }
}

await ensurePeers();
redisPort = freePort();
const redis: Child | undefined = new Child("redis", "redis-server", [
  "--port",
  String(redisPort),
  "--bind",
  "127.0.0.1",
  "--save",
  "",
  "--appendonly",
  "no",
]);
const systems: System[] = [
  pipelininOn("pipelinin"),
  pipelininOn("pipelinin-pg"),
  peer("bullmq", "node", `${here}peers/bullmq/e2e.mjs`),
  peer("celery", "/usr/bin/python3", `${here}peers/celery/e2e.py`),
];
const results: Record<string, Figures[]> = {
  pipelinin: [],
  "pipelinin-pg": [],
  bullmq: [],
  celery: [],
};
try {
  await new Promise((resolve) => setTimeout(resolve, 300)); // Redis binds.
  for (let rep = 0; rep < REPS; rep++) {
    const turn = rep % systems.length;
    const order = [...systems.slice(turn), ...systems.slice(0, turn)];
    for (const system of order) results[system.name]!.push(await runSystem(system));
  }
} finally {
  await redis.stop();
}

const stat = (name: string, key: keyof Figures) => {
  const values = results[name]!.map((r) => r[key]);
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
};
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const cell = (name: string, key: keyof Figures) => {
  const s = stat(name, key);
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
};
const rows = [
  "| workload | pipelinin | pipelinin on PostgreSQL | BullMQ | Celery | pipelinin / BullMQ | pipelinin / Celery | on PostgreSQL / SQLite |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
];
WORKLOADS.forEach((w, i) => {
  const key = OUT_KEYS[i]!;
  const p = stat("pipelinin", key).median;
  const ratio = (other: string) => (p / stat(other, key).median).toFixed(2);
  const pg = (stat("pipelinin-pg", key).median / p).toFixed(2);
  rows.push(
    `| ${w.label} (${w.better} is better) | ${cell("pipelinin", key)} | ${
      cell("pipelinin-pg", key)
    } | ${cell("bullmq", key)} | ${cell("celery", key)} | ${ratio("bullmq")} | ${
      ratio("celery")
    } | ${pg} |`,
  );
});
for (const [key, label] of [["idle_rss_mb", "idle RSS MB"], ["rss_mb", "peak RSS MB"]] as const) {
  const ratio = (other: string) =>
    (stat("pipelinin", key).median / stat(other, key).median).toFixed(2);
  const pg = (stat("pipelinin-pg", key).median / stat("pipelinin", key).median).toFixed(2);
  rows.push(
    `| ${label} (lower is better) | ${cell("pipelinin", key)} | ${cell("pipelinin-pg", key)} | ${
      cell("bullmq", key)
    } | ${cell("celery", key)} | ${ratio("bullmq")} | ${ratio("celery")} | ${pg} |`,
  );
}
const table = rows.join("\n");
const medians = (name: string) =>
  Object.fromEntries(
    [...OUT_KEYS, "idle_rss_mb", "rss_mb"].map((k) => [
      k,
      Number(fmt(stat(name, k as keyof Figures).median)),
    ]),
  );
const line = {
  bench: "e2e",
  ...medians("pipelinin"),
  postgres: medians("pipelinin-pg"),
  bullmq: medians("bullmq"),
  celery: medians("celery"),
};

const versions = [
  `Deno ${Deno.version.deno}`,
  `Node ${await output("node", ["--version"])}`,
  `BullMQ ${
    JSON.parse(await Deno.readTextFile(`${here}peers/bullmq/node_modules/bullmq/package.json`))
      .version
  }`,
  `Celery ${await output("/usr/bin/python3", ["-c", "import celery; print(celery.__version__)"])}`,
  `Redis ${(await output("redis-server", ["--version"])).split(" ")[2]?.replace("v=", "")}`,
  `PostgreSQL ${await TempPostgres.version()}`,
].join(", ");
await report(
  `${here}RESULTS.md`,
  "## End to end: pipelinin vs BullMQ vs Celery",
  `Command: \`deno task bench:e2e\`  
Date: ${new Date().toISOString()}  
Machine: ${await machine()}  
Versions: ${versions}  
Setup: 2 worker slots per system (pipelinin: as \`deno task start --workers 2\` runs it, the Router, a Pipeliner and a Broker in one process and its worker hosts apart, with the Router's store durable as always; pipelinin on PostgreSQL: the same with \`--store postgres://...\` on a PostgreSQL of its own on loopback, fsync on, RSS including the server's processes; BullMQ: one worker process, concurrency 2; Celery: prefork, concurrency 2; both on a Redis of their own with persistence off). Each client is its own process. Trivial functions (input plus one), every result checked. Median of ${REPS} repetitions (min–max), order rotated; an unmeasured warm-up in each client (1,000 single jobs, 30 chains, 3 fan-outs, and before W3 500 chains one after another: the steady state is measured, not the JIT compiling it; pipelinin's daemons need a few hundred sequential chains after a start before V8 has optimized that path: docs/architecture.md, _Speed_). RSS sums each system's processes (for the peers, Redis included): idle is read ${
    IDLE_MS / 1000
  } s after the system started, before its first workload; peak is the most seen during the workloads.`,
  table,
  line,
);
