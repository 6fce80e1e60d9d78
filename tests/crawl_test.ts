/**
 * The tutorial's crawl on the shipped functions: download a page, find its links,
 * fetch each link as an item of a map, sum it up.
 */
import { assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";
import { Pipeline } from "../mod.ts";
import { crawl } from "../examples/crawl.ts";

Deno.test("the tutorial's crawl fetches each link of a page in a map, then sums it up", async () => {
  const pages: Record<string, string> = {
    "/": '<a href="/a">A</a> <a href="/b">B</a> <a href="/gone">gone</a> <a href="/a">again</a>',
    "/a": "<h1>Page A</h1>",
    "/b": "<h1>Page B</h1>",
  };
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      const page = pages[new URL(request.url).pathname];
      return new Response(page ?? "missing", { status: page ? 200 : 404 });
    },
  );
  await using cluster = await Cluster.start({
    functionsDir: "functions",
    waitFor: ["downloader", "links", "fetch_link", "summary", "text_and_words"],
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const result = await cluster.manager.run(
    new Pipeline(crawl.graph, { data: { url }, jobs: crawl.jobs }),
    {
      timeoutMs: 30_000,
    },
  );
  assertEquals(result.status, "succeeded", cluster.logs());
  assertEquals(result.document.links, ["/a", "/b", "/gone"]);
  assertEquals(result.document.pages, [
    { url: `${url}a`, status: 200, bytes: 15, title: "Page A" },
    { url: `${url}b`, status: 200, bytes: 15, title: "Page B" },
    { url: `${url}gone`, status: 404, bytes: 7, title: null },
  ]);
  assertEquals(result.document.summary, { page: url, links: 3, fetched: 2, broken: 1 });
  const pagesJob = result.jobs.find((job) => job.jobId === "pages");
  assertEquals(pagesJob?.map?.succeeded, 3);
});
