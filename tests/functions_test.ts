/**
 * Function modules in a running cluster: the seed's tutorial, and files added or
 * changed while the cluster runs.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { Pipeline } from "../mod.ts";

const WAIT = { timeoutMs: 30_000 };

Deno.test("the tutorial DAG downloads a page, then extracts its text, words and links", async () => {
  const pages: Record<string, string> = {
    "/":
      '<html><body><h1>Hello</h1><p>Brave new world</p><a href="/a">A</a><a href="/b">B</a></body></html>',
  };
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) =>
      new Response(pages[new URL(request.url).pathname] ?? "missing", {
        status: pages[new URL(request.url).pathname] ? 200 : 404,
      }),
  );
  await using cluster = await Cluster.start({
    functionsDir: "functions",
    waitFor: ["downloader", "text_and_words", "links"],
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const id = await cluster.manager.start(
    new Pipeline({ downloader: ["text_and_words", "links"] }, { data: { url } }),
  );
  const result = await cluster.manager.wait(id, WAIT);
  assertEquals(result.status, "succeeded", cluster.logs());
  assertEquals(result.document.text, "Hello Brave new world A B");
  assertEquals(result.document.words, ["hello", "brave", "new", "world", "a", "b"]);
  assertEquals(result.document.links, ["/a", "/b"]);
  assertEquals(result.jobs.map((j) => j.jobId), ["downloader", "text_and_words", "links"]);

  const missing = await cluster.manager.wait(
    await cluster.manager.start(
      new Pipeline({ downloader: ["links"] }, { data: { url: `${url}nowhere` } }),
    ),
    WAIT,
  );
  assertEquals(missing.status, "failed");
  assert(missing.jobs[0]?.error?.message.includes("404"), JSON.stringify(missing.jobs[0]));
  assertEquals(missing.jobs[1]?.status, "skipped");
});

async function runOnce(cluster: Cluster, fn: string) {
  return await cluster.manager.wait(await cluster.manager.start({ graph: { [fn]: [] } }), WAIT);
}

Deno.test("a function file added or changed while the cluster runs takes effect without a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  try {
    await Deno.copyFile(new URL("./fixtures/functions/ok.ts", import.meta.url), `${dir}/ok.ts`);
    await using cluster = await Cluster.start({ functionsDir: dir });
    await Deno.writeTextFile(
      `${dir}/added.ts`,
      "export default () => ({ version: 1 });\n",
    );
    await cluster.waitForFunctions(["added"]);
    assertEquals((await runOnce(cluster, "added")).document, { version: 1 });

    await Deno.writeTextFile(`${dir}/added.ts`, "export default () => ({ version: 2 });\n");
    const deadline = Date.now() + 20_000;
    let version: unknown;
    while (Date.now() < deadline) {
      version = (await runOnce(cluster, "added")).document.version;
      if (version === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assertEquals(version, 2, cluster.logs());

    await Deno.remove(`${dir}/added.ts`);
    const gone = Date.now() + 20_000;
    while (Date.now() < gone) {
      const fns = await cluster.manager.functions();
      if (!fns.some((f) => f.name === "added")) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const error = await cluster.manager.start({ graph: { added: [] } }).catch((e) => e);
    assertEquals(error.name, "PipelineValidationError");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a function added with more permissions (all of env, too) restarts the worker hosts with them; jobs go on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  try {
    await Deno.copyFile(new URL("./fixtures/functions/ok.ts", import.meta.url), `${dir}/ok.ts`);
    await Deno.writeTextFile(`${dir}/data.txt`, "granted");
    await using cluster = await Cluster.start({ functionsDir: dir, waitFor: ["ok"] });
    assertEquals((await runOnce(cluster, "ok")).status, "succeeded");
    // The hosts ran without read access to data.txt: they restart with it.
    await Deno.writeTextFile(
      `${dir}/reads.ts`,
      [
        `export const config = { permissions: { read: ["./data.txt"], env: true } };`,
        `const file = ${JSON.stringify(`${dir}/data.txt`)};`,
        `export default async () => ({`,
        `  text: await Deno.readTextFile(file),`,
        `  env: typeof Deno.env.get("PATH"),`,
        `});`,
      ].join("\n"),
    );
    await cluster.waitForFunctions(["reads"]);
    const read = await runOnce(cluster, "reads");
    // All of env, though the hosts need one variable of their own (PIPELININ_LIBZMQ).
    assertEquals(
      [read.status, read.document.text, read.document.env],
      ["succeeded", "granted", "string"],
      cluster.logs(),
    );
    assertEquals((await runOnce(cluster, "ok")).status, "succeeded");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
