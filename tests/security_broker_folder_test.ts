/**
 * A function reads no file beyond its grant, module loading included: entries of the
 * functions folder that resolve outside it (symlinks to folders, to files, nested in a
 * helper folder, hidden) are skipped with a logged reason, and neither the function's
 * worker nor its host reads or imports through them.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { runOne } from "./_sandbox.ts";

/** Reads and imports through every way out, and says how each went. */
const PEEK = `export const config = { permissions: {} };
const tryIt = async (f) => { try { return await f(); } catch (e) { return e.name; } };
const at = (path) => new URL(path, import.meta.url);
export default async () => ({
  store: await tryIt(() => Deno.readTextFile(at("./_store/secret.txt"))),
  file: await tryIt(() => Deno.readTextFile(at("./_secret.txt"))),
  nested: await tryIt(() => Deno.readTextFile(at("./_real/out/secret.txt"))),
  hidden: await tryIt(() => Deno.readTextFile(at("./.hidden/secret.txt"))),
  etc: await tryIt(() => Deno.readTextFile(at("./_etc/hostname"))),
  imported: await tryIt(async () => (await import("./_lib/m.js")).x),
  importedNested: await tryIt(async () => (await import("./_real/out/m.js")).x),
  helper: (await import("./_util.ts")).util,
});
`;

Deno.test("symlinks out of the functions folder are skipped, and nothing reads or imports through them", async () => {
  const outside = await Deno.makeTempDir({ prefix: "pipelinin-outside-" });
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-functions-" });
  try {
    await Deno.writeTextFile(`${outside}/secret.txt`, "secret");
    await Deno.writeTextFile(`${outside}/m.js`, 'export const x = "imported";\n');
    await Deno.writeTextFile(`${dir}/peek.ts`, PEEK);
    await Deno.writeTextFile(`${dir}/_util.ts`, 'export const util = "helper";\n');
    await Deno.symlink(outside, `${dir}/_store`);
    await Deno.symlink(outside, `${dir}/_lib`);
    await Deno.symlink(outside, `${dir}/.hidden`);
    await Deno.symlink("/etc", `${dir}/_etc`);
    await Deno.symlink(`${outside}/secret.txt`, `${dir}/_secret.txt`);
    await Deno.mkdir(`${dir}/_real`);
    await Deno.symlink(outside, `${dir}/_real/out`);
    // A module that is itself a link out of the folder is not served either.
    await Deno.writeTextFile(`${outside}/linked.ts`, "export default () => ({ linked: true });\n");
    await Deno.symlink(`${outside}/linked.ts`, `${dir}/linked.ts`);
    await using cluster = await Cluster.start({ waitFor: ["peek"], functionsDir: dir, workers: 1 });
    const result = await runOne(cluster, "peek");
    const logs = cluster.logs();
    const job = result.jobs[0];
    assert(job?.status === "succeeded", `${JSON.stringify(job)}\n${logs}`);
    const refused = "NotCapable";
    assertEquals(job.output, {
      store: refused,
      file: refused,
      nested: refused,
      hidden: refused,
      etc: refused,
      imported: "TypeError",
      importedNested: "TypeError",
      helper: "helper",
    }, logs);
    for (const name of ["_store", "_lib", ".hidden", "_etc", "_secret.txt", "_real", "linked.ts"]) {
      assert(logs.includes(`Skipped ${dir}/${name} in the functions folder`), `${name}\n${logs}`);
    }
    const names = (await cluster.manager.functions()).map((f) => f.name);
    assert(!names.includes("linked"), `a linked module is served: ${names}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
