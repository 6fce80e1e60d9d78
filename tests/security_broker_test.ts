/**
 * Attacks on the broker's trust in what a function module says about itself: a
 * module whose source declares no permissions and whose code, when it runs, claims
 * more. Each attack is a hostile module in a temporary functions folder, run by a
 * real Router and broker.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { runOne } from "./_sandbox.ts";

/** What every forger claims: everything a function could be granted. */
const CLAIM = `{ permissions: { read: true, env: true, net: true, write: true } }`;

/** A job that tries what the forged claim would allow and says how each try went. */
const PROBE = `
const tryIt = async (f) => { try { await f(); return "allowed"; } catch (e) { return e.name; } };
export default async () => ({
  read: await tryIt(() => Deno.readTextFile("/etc/passwd")),
  env: await tryIt(() => Deno.env.toObject()),
  write: await tryIt(() => Deno.writeTextFile(Deno.makeTempFileSync(), "x")),
});
`;

/** Forged describe answers posted to the host from top-level code, for every id. */
const POST_FORGER = `
export const config = { permissions: {} };
const description = { config: ${CLAIM}, problems: [], hasDefault: true };
for (let id = 0; id <= 64; id++) {
  self.postMessage({ type: "ok", id, result: { kind: "describe", description } });
}
${PROBE}`;

/** Forged, unsigned "described" frames written to the host's stdout from top-level code. */
const FD_FORGER = `
import { writeSync } from "node:fs";
export const config = { permissions: {} };
const body = JSON.stringify({ ok: true, description: { config: ${CLAIM}, problems: [], hasDefault: true } });
for (let id = 0; id <= 64; id++) {
  const json = new TextEncoder().encode(JSON.stringify({ type: "described", id, body, mac: "AAAA" }));
  const frame = new Uint8Array(4 + json.length);
  new DataView(frame.buffer).setUint32(0, json.length);
  frame.set(json, 4);
  try { writeSync(1, frame); } catch { /* no stdout to write to */ }
}
${PROBE}`;

/** Starts a cluster on a folder holding `files`, waits for `fn`, runs one job of it. */
async function attack(files: Record<string, string>, fn: string) {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  try {
    for (const [name, source] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, source);
    }
    await using cluster = await Cluster.start({ waitFor: [fn], functionsDir: dir, workers: 1 });
    const info = (await cluster.manager.functions()).find((f) => f.name === fn);
    const result = await runOne(cluster, fn);
    return { info, result, logs: cluster.logs() };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The job ran and every try the claim would have allowed was refused. */
function assertConfined(outcome: Awaited<ReturnType<typeof attack>>): void {
  const { info, result, logs } = outcome;
  assertEquals(info?.config, { permissions: {} }, logs);
  const job = result.jobs[0];
  assert(job?.status === "succeeded", `${JSON.stringify(job)}\n${logs}`);
  assertEquals(job.output, { read: "NotCapable", env: "NotCapable", write: "NotCapable" }, logs);
}

Deno.test("a module cannot grant itself permissions by posting a describe answer", async () => {
  assertConfined(await attack({ "forger.ts": POST_FORGER }, "forger"));
});

Deno.test("a module cannot grant itself permissions by writing describe frames to fd 1", async () => {
  assertConfined(await attack({ "forger.ts": FD_FORGER }, "forger"));
});

/** A job that posts forged describe answers, for every id, for a while. */
const JOB_POSTER = `
const description = { config: ${CLAIM}, problems: [], hasDefault: true };
export default async () => {
  const until = Date.now() + 3000;
  while (Date.now() < until) {
    for (let id = 0; id <= 64; id++) {
      self.postMessage({ type: "ok", id, result: { kind: "describe", description } });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {};
};
`;

Deno.test("a job posting describe answers while another module is described gives it nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  try {
    await Deno.writeTextFile(`${dir}/poster.ts`, JOB_POSTER);
    // One host: the one running the poster is the one that describes.
    await using cluster = await Cluster.start({
      waitFor: ["poster"],
      functionsDir: dir,
      workers: 1,
    });
    const id = await cluster.manager.start({ graph: { poster: [] } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await Deno.writeTextFile(`${dir}/victim.ts`, `export const config = {};\n${PROBE}`);
    await cluster.waitForFunctions(["victim"]);
    const victim = (await cluster.manager.functions()).find((f) => f.name === "victim");
    assertEquals(victim?.config, {}, cluster.logs());
    await cluster.manager.wait(id, { timeoutMs: 30_000 });
    const result = await runOne(cluster, "victim");
    assertEquals(result.jobs[0]?.output, {
      read: "NotCapable",
      env: "NotCapable",
      write: "NotCapable",
    }, cluster.logs());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
