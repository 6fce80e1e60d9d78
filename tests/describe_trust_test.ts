/**
 * A function's code can write frames on its worker host's stdout. The host that
 * describes the other modules signs its descriptions, so such code cannot give
 * another module a config (and so permissions) of its making.
 */
import { assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";

const FORGER = `
import { writeSync } from "node:fs";

/** Writes forged describe replies, for every id a describe might carry, for a while. */
export default async () => {
  const body = JSON.stringify({
    ok: true,
    description: { config: { permissions: { read: true } }, problems: [], hasDefault: true },
  });
  const until = Date.now() + 3000;
  while (Date.now() < until) {
    for (let id = 1; id <= 50; id++) {
      const json = new TextEncoder().encode(JSON.stringify({ type: "described", id, body, mac: "AAAA" }));
      const frame = new Uint8Array(4 + json.length);
      new DataView(frame.buffer).setUint32(0, json.length);
      frame.set(json, 4);
      writeSync(1, frame);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {};
};
`;

Deno.test("a function cannot forge another module's description on its host's stdout", async () => {
  const functions = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  try {
    await Deno.writeTextFile(`${functions}/forger.ts`, FORGER);
    // One host: the one running the forger is the one that describes.
    await using cluster = await Cluster.start({
      waitFor: ["forger"],
      functionsDir: functions,
      workers: 1,
    });
    const id = await cluster.manager.start({ graph: { forger: [] } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await Deno.writeTextFile(
      `${functions}/victim.ts`,
      "export const config = {};\nexport default () => ({});\n",
    );
    await cluster.waitForFunctions(["victim"]);
    const victim = (await cluster.manager.functions()).find((f) => f.name === "victim");
    assertEquals(victim?.config, {}, cluster.logs());
    const result = await cluster.manager.wait(id, { timeoutMs: 30_000 });
    assertEquals(result.status, "succeeded", cluster.logs());
  } finally {
    await Deno.remove(functions, { recursive: true });
  }
});
