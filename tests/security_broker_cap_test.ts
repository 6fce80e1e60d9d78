/**
 * The operator's cap on what functions may ask for (`start-broker --max-permissions`):
 * a function that asks for more is refused, says why in `/functions` and the broker
 * log, and the others serve on.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { runOne } from "./_sandbox.ts";

const CAP = '{"net":["127.0.0.1:8000"],"read":false}';

const FILES: Record<string, string> = {
  "fits.ts": `export const config = { permissions: { net: ["127.0.0.1:8000"] } };
export default () => ({ ok: true });
`,
  "reads_all.ts": `export const config = { permissions: { read: true } };
export default () => ({ text: Deno.readTextFileSync("/etc/passwd") });
`,
  "other_port.ts": `export const config = { permissions: { net: ["127.0.0.1:9000"] } };
export default () => ({ ok: true });
`,
  "env.ts": `export const config = { permissions: { env: ["HOME"] } };
export default () => ({ home: Deno.env.get("HOME") });
`,
};

Deno.test("a function that asks for more than --max-permissions is refused, and says why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  try {
    for (const [name, source] of Object.entries(FILES)) {
      await Deno.writeTextFile(`${dir}/${name}`, source);
    }
    await using cluster = await Cluster.start({
      waitFor: ["fits"],
      functionsDir: dir,
      workers: 1,
      brokerArgs: ["--max-permissions", CAP],
    });
    const logs = () => cluster.logs();
    const functions = await cluster.manager.functions();
    const errorOf = (name: string) => functions.find((f) => f.name === name)?.errors[0];
    assertEquals(errorOf("fits"), undefined, logs());
    assertEquals(functions.find((f) => f.name === "reads_all")?.brokers, [], logs());
    for (
      const [name, over] of [["reads_all", "read (all)"], ["other_port", 'net "127.0.0.1:9000"'], [
        "env",
        'env "HOME"',
      ]]
    ) {
      const error = errorOf(name!);
      assert(error, `${name}: no load error\n${logs()}`);
      assert(
        error.message.includes("asks for more than this broker allows") &&
          error.message.includes(over!),
        error.message,
      );
      assert(logs().includes(`Function ${name} is refused`), logs());
    }
    const result = await runOne(cluster, "fits");
    assertEquals(result.status, "succeeded", logs());
    // Refused functions are not served: the Router turns their pipelines away.
    let refused: unknown;
    try {
      await cluster.manager.start({ graph: { reads_all: [] } });
    } catch (error) {
      refused = error;
    }
    assert(refused instanceof Error, `a pipeline of a refused function was accepted\n${logs()}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
