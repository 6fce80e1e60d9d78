/**
 * The rules shipped functions share with a broker's own: one name is served from one
 * place (the Router's copy when both have other code, reported in `/functions` and
 * the log; the same code is no conflict), and a shipped function gets the sandbox a
 * local one gets (its declared permissions, capped by `--max-permissions`).
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { errorOf, folder, outputOf, runOne } from "./_sandbox.ts";
import type { FunctionView } from "../mod.ts";

const from = (where: string) => `export default () => ({ from: "${where}" });\n`;

Deno.test("a name with other code in the broker's folder is served from the Router's copy, and reported", async () => {
  await using shipped = await folder({ "f.ts": from("router"), "same.ts": from("both") });
  await using own = await folder({ "f.ts": from("local"), "same.ts": from("both") });
  await using cluster = await Cluster.start({
    functionsDir: own.path,
    routerArgs: ["--functions", shipped.path],
    waitFor: ["f", "same"],
    workers: 1,
  });
  const logs = () => cluster.logs();
  const listed = async () => {
    const response = await fetch(`${cluster.http}/functions`);
    return ((await response.json()) as { functions: FunctionView[] }).functions;
  };
  // The broker may list its own copy before the Router's arrives: wait for the conflict.
  const deadline = Date.now() + 30_000;
  let functions = await listed();
  while (!functions.find((f) => f.name === "f")?.conflicts.length) {
    assert(Date.now() < deadline, `no conflict listed: ${JSON.stringify(functions)}\n${logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    functions = await listed();
  }
  const f = functions.find((view) => view.name === "f")!;
  assertEquals(f.conflicts.length, 1);
  assert(f.conflicts[0]!.message.includes("the Router's copy is served"), f.conflicts[0]!.message);
  assertEquals(functions.find((view) => view.name === "same")?.conflicts, []);
  assertEquals(outputOf(await runOne(cluster, "f")).from, "router", logs());
  assertEquals(outputOf(await runOne(cluster, "same")).from, "both", logs());
  assert(logs().includes(`Function "f" has other code in this broker's folder`), logs());
  assert(!logs().includes(`Function "same" has other code`), logs());
});

Deno.test("a shipped function gets its declared permissions only, capped by --max-permissions", async () => {
  await using secret = await folder({ "secret.txt": "s3cret" });
  const path = `${secret.path}/secret.txt`;
  await using shipped = await folder({
    "reads.ts": `export default () => ({ text: Deno.readTextFileSync(${
      JSON.stringify(path)
    }) });\n`,
    "reads_allowed.ts": `export const config = { permissions: { read: [${JSON.stringify(path)}] } };
export default () => ({ text: Deno.readTextFileSync(${JSON.stringify(path)}) });\n`,
    "greedy.ts": `export const config = { permissions: { net: true } };
export default () => ({});\n`,
  });
  await using own = await folder({});
  await using cluster = await Cluster.start({
    functionsDir: own.path,
    routerArgs: ["--functions", shipped.path],
    brokerArgs: ["--max-permissions", JSON.stringify({ read: [secret.path] })],
    waitFor: ["reads", "reads_allowed"],
    workers: 1,
  });
  const logs = () => cluster.logs();
  const denied = errorOf(await runOne(cluster, "reads"));
  assertEquals(denied.name, "NotCapable", `${JSON.stringify(denied)}\n${logs()}`);
  assertEquals(outputOf(await runOne(cluster, "reads_allowed")).text, "s3cret", logs());
  const greedy = (await cluster.manager.functions()).find((f) => f.name === "greedy");
  assertEquals(greedy?.brokers, [], logs());
  assert(
    greedy?.errors[0]?.message.includes("asks for more than this broker allows"),
    JSON.stringify(greedy),
  );
  assert(logs().includes("Function greedy is refused"), logs());
});
