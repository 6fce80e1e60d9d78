/**
 * `deno.json`'s daemon tasks come from the flags each daemon keeps in its folder:
 * this fails when they disagree (run `deno task tasks` to rewrite them), and the
 * one-process cluster's flags are the union of the three daemons'.
 */
import { assertEquals } from "./_assert.ts";
import { daemonTasks, withDaemonTasks } from "../deno_tasks.ts";
import { CLUSTER_FLAGS, DAEMON_FLAGS, unionFlags } from "../deno_flags.ts";

const file = new URL("../deno.json", import.meta.url);

Deno.test("deno.json's start tasks are the ones written from each daemon's deno_flags.ts", async () => {
  const text = await Deno.readTextFile(file);
  const tasks = (JSON.parse(text) as { tasks: Record<string, string> }).tasks;
  for (const [name, command] of Object.entries(daemonTasks())) {
    assertEquals(tasks[name], command, `task "${name}" (run \`deno task tasks\`)`);
  }
  assertEquals(withDaemonTasks(text), text, "deno.json as `deno task tasks` writes it");
});

Deno.test("the one-process cluster gets every permission any of its daemons has", () => {
  const granted = new Set(CLUSTER_FLAGS);
  for (const flags of Object.values(DAEMON_FLAGS)) {
    for (const flag of flags) {
      const kind = flag.split("=")[0]!;
      assertEquals(granted.has(flag) || granted.has(kind), true, `${flag} is covered`);
    }
  }
});

Deno.test("unionFlags: a full grant covers scoped ones, scopes of one kind join, others stay once", () => {
  assertEquals(
    unionFlags(["--allow-write=/a", "--allow-net"], ["--allow-write=/b", "--allow-net=x", "--z"]),
    ["--allow-write=/a,/b", "--allow-net", "--z"],
  );
  assertEquals(unionFlags(["--allow-read=/a"], ["--allow-read"]), ["--allow-read"]);
});
