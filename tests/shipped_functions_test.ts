/**
 * Functions shipped by the Router (`start-router --functions <dir>`): a broker whose
 * own folder is empty runs them, relative imports and `npm:` imports included, and an
 * edit in the Router's folder reaches it without a restart, switching new jobs to the
 * new version at once.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { delay } from "./_helpers.ts";
import { folder, jobOf, outputOf, run, runOne, WAIT_MS } from "./_sandbox.ts";

/** The names in `dir`. */
async function filesOf(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found;
}

const ROUTER_FUNCTIONS: Record<string, string> = {
  "page.ts": `export const config = { requires: ["url"] };
export default (input) => ({ html: \`<p>Hello World</p><a href="/a">a</a> \${input.url}\` });
`,
  "words.ts": `import { split } from "./lib/split.ts";
export const config = { requires: ["html"] };
export default (input) => ({ words: split(String(input.html)) });
`,
  "lib/split.ts": `import { lower } from "../_helpers/lower.ts";
export const split = (html: string) => lower(html.replace(/<[^>]+>/g, " ")).split(/\\s+/).filter(Boolean);
`,
  "_helpers/lower.ts": `export const lower = (text: string) => text.toLowerCase();
`,
  "links.ts": `export const config = { requires: ["html"] };
export default (input) => ({ links: [...String(input.html).matchAll(/href="([^"]+)"/g)].map((m) => m[1]) });
`,
  "uses_npm.ts": `import { Hono } from "npm:hono@4.13.19";
export default async () => {
  const app = new Hono().get("/", (c) => c.text("from hono"));
  return { text: await (await app.request("/")).text() };
};
`,
};

Deno.test("a broker with an empty folder runs the Router's functions, with their relative and npm imports", async () => {
  await using shipped = await folder(ROUTER_FUNCTIONS);
  await using own = await folder({});
  await using cluster = await Cluster.start({
    functionsDir: own.path,
    routerArgs: ["--functions", shipped.path],
    waitFor: ["page", "words", "links", "uses_npm"],
    workers: 2,
  });
  const logs = () => cluster.logs();
  const result = await run(cluster, {
    graph: { page: ["words", "links"] },
    data: { url: "x" },
  });
  assertEquals(result.status, "succeeded", logs());
  assertEquals(result.document.words, ["hello", "world", "a", "x"], logs());
  assertEquals(result.document.links, ["/a"], logs());
  assertEquals(outputOf(await runOne(cluster, "uses_npm")), { text: "from hono" }, logs());
  const view = (await cluster.manager.functions()).find((f) => f.name === "words");
  assertEquals(view?.errors, [], logs());
  // Nothing was copied into the broker's own folder.
  assertEquals(await filesOf(own.path), []);
});

Deno.test("an edit in the Router's folder reaches the broker without a restart, and new jobs never go back", async () => {
  const version = (v: number) => `export default () => ({ v: ${v} });\n`;
  await using shipped = await folder({ "version.ts": version(1) });
  await using own = await folder({});
  await using cluster = await Cluster.start({
    functionsDir: own.path,
    routerArgs: ["--functions", shipped.path],
    // Two host processes, each given one job at a time: a round's two jobs run in both,
    // so a host that switched late would show.
    brokerArgs: ["--host-slots", "1", "--prefetch", "0"],
    waitFor: ["version"],
    workers: 2,
  });
  const logs = () => cluster.logs();
  assertEquals(outputOf(await runOne(cluster, "version")).v, 1, logs());
  const edited = performance.now();
  await Deno.writeTextFile(`${shipped.path}/version.ts`, version(2));
  // Rounds of two jobs at once (one per host), one round after another: a round may
  // straddle the switch, but once one saw v2, no later round may see v1.
  const rounds: number[][] = [];
  const hosts = new Set<string>();
  const deadline = Date.now() + WAIT_MS;
  let after: number | undefined;
  while (after === undefined || rounds.length < after + 20) {
    assert(Date.now() < deadline, `no v2 in time: ${JSON.stringify(rounds)}\n${logs()}`);
    const result = await run(cluster, {
      graph: { a: [], b: [] },
      jobs: { a: "version", b: "version" },
    });
    const round = [Number(outputOf(result, "a").v), Number(outputOf(result, "b").v)];
    rounds.push(round);
    for (const job of ["a", "b"]) hosts.add(jobOf(result, job).broker ?? "");
    if (round.includes(2) && after === undefined) {
      after = rounds.length;
      // deno-lint-ignore no-console -- the measurement this test reports
      console.log(`the edit reached the broker in ${Math.round(performance.now() - edited)} ms`);
    }
    if (!round.includes(2)) await delay(20);
  }
  const back = rounds.slice(after!).findIndex((round) => round.includes(1));
  assertEquals(back, -1, `a job ran v1 after a v2 was seen: ${JSON.stringify(rounds)}`);
  assertEquals(hosts.size, 2, `both hosts ran jobs: ${[...hosts]}`);
});
