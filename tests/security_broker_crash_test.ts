/**
 * A function whose result its host cannot encode (a cyclic object, a BigInt, an array
 * nested 200,000 deep), returned or posted past the worker's own checks: its job
 * fails with a clear error, or at worst is poison, or (a forged post, which the host
 * never takes as an answer) ends with its function's own output; its host is not
 * crashed over and over, and no other tenant's job is blamed.
 */
import { assert } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { run } from "./_sandbox.ts";

/** Answers every run it sees with `output`, before the worker's own answer. */
const forger = (output: string) => `
self.addEventListener("message", (event) => {
  for (const item of [event.data].flat()) {
    if (item?.type !== "run") continue;
    const output = ${output};
    self.postMessage({ type: "ok", id: item.id, result: { kind: "run", output } });
  }
});
export default () => ({ honest: true });
`;

const FILES: Record<string, string> = {
  "cyclic.ts": forger("(() => { const o = { a: 1 }; o.self = o; return o; })()"),
  "bigint.ts": forger("({ n: 10n })"),
  // Deep enough to overflow a stack wherever it is copied or encoded.
  "deep.ts": forger(
    "(() => { let a = []; for (let i = 0; i < 200000; i++) a = [a]; return { a }; })()",
  ),
  "victim.ts": "export default (input) => ({ seen: input.n ?? 0 });\n",
  "returns_cyclic.ts": "export default () => { const o = { a: 1 }; o.self = o; return o; };\n",
  "returns_bigint.ts": "export default () => ({ n: 10n });\n",
};

Deno.test("an output its host cannot encode fails its job and never blames another tenant", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  try {
    for (const [name, source] of Object.entries(FILES)) {
      await Deno.writeTextFile(`${dir}/${name}`, source);
    }
    await using cluster = await Cluster.start({
      waitFor: ["cyclic", "bigint", "deep", "victim", "returns_cyclic", "returns_bigint"],
      functionsDir: dir,
      workers: 1,
    });
    const started = Date.now();
    const hostile = [];
    const victims = [];
    for (let k = 0; k < 3; k++) {
      hostile.push(
        run(cluster, { graph: { cyclic: [] } }),
        run(cluster, { graph: { bigint: [] } }),
        run(cluster, { graph: { returns_cyclic: [] } }),
        run(cluster, { graph: { returns_bigint: [] } }),
      );
      victims.push(run(cluster, { graph: { victim: [] }, data: { n: k } }));
    }
    const logs = () => cluster.logs();
    const settled = await Promise.allSettled([...victims, ...hostile]);
    const lost = settled.filter((s) => s.status === "rejected");
    assert(lost.length === 0, `${lost.map((s) => (s as PromiseRejectedResult).reason)}\n${logs()}`);
    for (const result of await Promise.all(victims)) {
      assert(result.status === "succeeded", `${JSON.stringify(result.jobs)}\n${logs()}`);
    }
    for (const result of await Promise.all(hostile)) {
      const job = result.jobs[0];
      if (result.status === "succeeded") {
        // A forged post is never an answer: the job ends with what its function returned.
        assert(
          !job?.fn.startsWith("returns_") && JSON.stringify(result.document) === '{"honest":true}',
          `${JSON.stringify(result)}\n${logs()}`,
        );
        continue;
      }
      const error = job?.error;
      assert(result.status === "failed" && error, `${JSON.stringify(result)}\n${logs()}`);
      const clean = error.name === "InvalidOutputError" || error.name === "PoisonJobError";
      assert(clean, `unclear error ${JSON.stringify(error)}\n${logs()}`);
    }
    assert(Date.now() - started < 20_000, `took ${Date.now() - started} ms\n${logs()}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
