/**
 * What a worker host and each of its Web Workers load when they start: every module
 * costs memory in every process or isolate that loads it, and a host runs one Web
 * Worker per function per slot. An npm package or a `node:` module sets up Deno's
 * Node layer in the process (about 5 MB of a host); the Web Worker entry needs the
 * document helpers, not the DAG's validator and state machine. Read from `deno info`,
 * static imports only (a dynamic one, such as the tracing SDK, loads when used).
 */
import { assertEquals } from "./_assert.ts";

const root = new URL("..", import.meta.url);

interface InfoDependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

function parseInfo(text: string): { roots: string[]; modules: InfoModule[] } {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null) throw new TypeError("deno info: not an object");
  const { roots, modules } = value as { roots?: unknown; modules?: unknown };
  if (!Array.isArray(roots) || !Array.isArray(modules)) {
    throw new TypeError("deno info: no roots or modules");
  }
  return { roots: roots.map(String), modules: modules as InfoModule[] };
}

/** The modules `entry` loads at start: static, non-type imports, transitively. */
async function loadedAtStart(entry: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, root).pathname],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  const info = parseInfo(new TextDecoder().decode(output.stdout));
  const bySpecifier = new Map(info.modules.map((module) => [module.specifier, module]));
  const seen = new Set<string>();
  const stack = [...info.roots];
  while (stack.length > 0) {
    const specifier = stack.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dependency.code && !dependency.isDynamic) stack.push(dependency.code.specifier);
    }
  }
  return [...seen].map((specifier) => specifier.replace(root.href, ""));
}

Deno.test("a worker host loads no npm package and no node: module at start", async () => {
  const loaded = await loadedAtStart("broker/host/main.ts");
  assertEquals(loaded.includes("broker/host/service.ts"), true, "the walk reaches the service");
  assertEquals(loaded.filter((name) => /^(npm|node):/.test(name)), []);
});

Deno.test("a function's Web Worker loads neither the DAG module nor npm or node: modules", async () => {
  const loaded = await loadedAtStart("broker/worker/entry.ts");
  assertEquals(loaded.includes("broker/worker/chain.ts"), true, "the walk reaches the chain");
  assertEquals(loaded.filter((name) => /^(npm|node):|^core\/dag\//.test(name)), []);
});
