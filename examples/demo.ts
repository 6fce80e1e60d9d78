/**
 * `deno task demo`: the seed's tutorial in TypeScript. Serves a few pages on a local
 * HTTP server, submits five crawls (downloader -> text_and_words, links; links ->
 * map(fetch each link) -> summary: see `crawl.ts`) to the cluster that `deno task
 * start` runs, and prints each resulting document.
 *
 * @module
 */
import { parseOrExit, ROUTER_ENDPOINT_FLAGS } from "../core/daemon.ts";
import { Pipeline, PipelineManager } from "../mod.ts";
import { peerCurveKeys } from "../core/curve_keys.ts";
import { crawl } from "./crawl.ts";

const spec = {
  usage: "deno task demo",
  description: "Runs the tutorial against a running cluster (start it with `deno task start`).",
  flags: {
    ...ROUTER_ENDPOINT_FLAGS,
    port: { type: "string", description: "Port of the demo web server", default: "8000" },
    "data-dir": {
      type: "string",
      description:
        "The cluster's data folder: on CURVE, its client.key and router.key are used unless the flags below are given",
      default: ".pipelinin",
    },
    "curve-key": { type: "string", description: "This client's key pair file (CURVE)" },
    "router-key": { type: "string", description: "The Router's public key, or a file holding it" },
  },
} as const;

const flags = parseOrExit(spec).values;
const { api, broadcast, port } = flags;
const dir = flags["data-dir"];
const own = [`${dir}/client.key`, `${dir}/router.key`].every((file) => exists(file));
// `deno task start` on CURVE leaves a client key in its data folder for this machine.
const curve = peerCurveKeys(
  flags["curve-key"] ?? (own ? `${dir}/client.key` : undefined),
  flags["router-key"] ?? (own ? `${dir}/router.key` : undefined),
);

function exists(file: string): boolean {
  try {
    return Deno.statSync(file).isFile;
  } catch {
    return false;
  }
}

const pages: Record<string, string> = {
  "/": `<html><body><h1>Welcome to pipelinin</h1><p>Jobs and pipelines across a cluster.</p>
    <a href="/about">About</a> <a href="/docs">Docs</a> <a href="/blog">Blog</a></body></html>`,
  "/about": `<html><body><h1>About</h1><p>A Router, Brokers and Pipeliners talk ZeroMQ.</p>
    <a href="/">Home</a></body></html>`,
  "/docs": `<html><body><h1>Docs</h1><p>Drop a function into functions and submit a DAG.</p>
    <a href="/">Home</a> <a href="/about">About</a> <a href="/missing">Old docs</a></body></html>`,
  "/blog": `<html><head><style>p{}</style></head><body><h1>Blog</h1>
    <p>Sandboxed workers, warm pools, durable state.</p><a href="/docs">Docs</a></body></html>`,
  "/contact": `<html><body><h1>Contact</h1><p>Write to the team.</p></body></html>`,
};

const server = Deno.serve(
  { hostname: "127.0.0.1", port: Number(port), onListen: () => {} },
  (request) => {
    const page = pages[new URL(request.url).pathname];
    return page
      ? new Response(page, { headers: { "content-type": "text/html" } })
      : new Response("not found", { status: 404 });
  },
);

const manager = new PipelineManager({ api, broadcast, ...(curve ? { curve } : {}) });
try {
  const ids = [];
  for (const path of Object.keys(pages)) {
    const pipeline = new Pipeline(crawl.graph, {
      data: { url: `http://127.0.0.1:${port}${path}` },
      jobs: crawl.jobs,
    });
    ids.push(await manager.start(pipeline));
  }
  for (const id of ids) {
    const result = await manager.wait(id, { timeoutMs: 60_000 });
    const { html: _html, ...document } = result.document;
    // deno-lint-ignore no-console -- the demo prints its results
    console.log(`pipeline ${id}: ${result.status}\n${JSON.stringify(document, null, 2)}\n`);
  }
} finally {
  await manager.close();
  await server.shutdown();
}
