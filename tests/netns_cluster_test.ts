/**
 * A cluster on separate hosts (network namespaces on one bridge, `tests/_netns.ts`):
 * the Router, two brokers, a pipeliner and a client each on a host of its own, over
 * real addresses. The client is the TypeScript `PipelineManager` in a small script
 * on its host (`tests/fixtures/netns_client.ts`): the ZeroMQ path that every client
 * library takes, request socket and broadcast alike, crosses the bridge.
 */
import { assert, assertEquals } from "./_assert.ts";
import { netnsSkip, Network } from "./_netns.ts";
import { brokerOf, HostCluster } from "./_netns_cluster.ts";

const HOSTS = ["router", "broker1", "broker2", "pipeliner", "client"];

/** The tutorial's pages (`examples/demo.ts`), with what the pipeline makes of each. */
const PAGES: Record<string, { html: string; text: string; links: string[] }> = {
  "/": {
    html: `<html><body><h1>Welcome to pipelinin</h1><p>Jobs and pipelines across a cluster.</p>
    <a href="/about">About</a> <a href="/docs">Docs</a> <a href="/blog">Blog</a></body></html>`,
    text: "Welcome to pipelinin Jobs and pipelines across a cluster. About Docs Blog",
    links: ["/about", "/docs", "/blog"],
  },
  "/about": {
    html: `<html><body><h1>About</h1><p>A Router, Brokers and Pipeliners talk ZeroMQ.</p>
    <a href="/">Home</a></body></html>`,
    text: "About A Router, Brokers and Pipeliners talk ZeroMQ. Home",
    links: ["/"],
  },
  "/docs": {
    html: `<html><body><h1>Docs</h1><p>Drop a function into functions and submit a DAG.</p>
    <a href="/">Home</a> <a href="/about">About</a></body></html>`,
    text: "Docs Drop a function into functions and submit a DAG. Home About",
    links: ["/", "/about"],
  },
  "/blog": {
    html: `<html><head><style>p{}</style></head><body><h1>Blog</h1>
    <p>Sandboxed workers, warm pools, durable state.</p><a href="/docs">Docs</a></body></html>`,
    text: "Blog Sandboxed workers, warm pools, durable state. Docs",
    links: ["/docs"],
  },
  "/contact": {
    html: `<html><body><h1>Contact</h1><p>Write to the team.</p></body></html>`,
    text: "Contact Write to the team.",
    links: [],
  },
};

Deno.test({
  name: "the tutorial pipelines run on a cluster of separate hosts, on both brokers",
  ignore: netnsSkip !== undefined,
  async fn() {
    await using net = await Network.create({ hosts: HOSTS });
    // `downloader` may reach 127.0.0.1 only: each broker's host serves the pages on its
    // own loopback, as the tutorial's demo server does beside its broker.
    const html = JSON.stringify(
      Object.fromEntries(Object.entries(PAGES).map(([p, v]) => [p, v.html])),
    );
    for (const host of ["broker1", "broker2"]) {
      const pages = net.spawn(host, `pages-${host}`, [
        "run",
        "--allow-net=127.0.0.1",
        "tests/fixtures/pages.ts",
        "8000",
        html,
      ]);
      await pages.waitForOutput("listening");
    }
    await using cluster = await HostCluster.start(net, {
      brokers: ["broker1", "broker2"],
      pipeliner: "pipeliner",
      functionsDir: "functions",
      waitFor: ["downloader", "text_and_words", "links"],
    });
    // Five rounds of the five pages: enough for both brokers to take some.
    const paths = Array.from({ length: 5 }, () => Object.keys(PAGES)).flat();
    const ids = await cluster.client.submit(paths.map((path) => ({
      graph: { downloader: ["text_and_words", "links"] },
      data: { url: `http://127.0.0.1:8000${path}` },
    })));
    const records = await cluster.client.wait(ids);
    const ran = new Set<string | undefined>();
    records.forEach((record, i) => {
      const page = PAGES[paths[i]!]!;
      assertEquals(record.status, "succeeded", `${JSON.stringify(record)}\n${net.logs()}`);
      const { text, links, html, status } = record.document;
      assertEquals({ text, links, html, status }, {
        text: page.text,
        links: page.links,
        html: page.html,
        status: 200,
      });
      assertEquals(record.document.words, page.text.toLowerCase().match(/[\p{L}\p{N}']+/gu));
      for (const job of record.jobs) ran.add(brokerOf(job));
    });
    assertEquals([...ran].sort(), ["broker1", "broker2"], "both brokers ran jobs");
    // The brokers ran the Router's functions and hold no copy in their own folders.
    assertEquals(await cluster.copiesOnBrokers(), []);
    const address = net.address("router");
    assert(cluster.router.output.includes(`requests on tcp://${address}:5555`), net.logs());
    assert(cluster.router.output.includes("CURVE on"), net.logs());
  },
});

Deno.test({
  name: "200 diamond DAGs on a cluster of separate hosts: every document right, both brokers used",
  ignore: netnsSkip !== undefined,
  async fn() {
    await using net = await Network.create({ hosts: HOSTS });
    await using cluster = await HostCluster.start(net, {
      brokers: ["broker1", "broker2"],
      pipeliner: "pipeliner",
      waitFor: ["tag"],
    });
    const ids = await cluster.client.submit(Array.from({ length: 200 }, (_, n) => ({
      graph: { a: ["b", "c"], b: "d", c: "d" },
      jobs: { a: "tag", b: "tag", c: "tag", d: "tag" },
      data: { start: n },
    })));
    const records = await cluster.client.wait(ids);
    const jobsBy = new Map<string | undefined, number>();
    records.forEach((record, n) => {
      assertEquals(record.status, "succeeded", `${JSON.stringify(record)}\n${net.logs()}`);
      assertEquals(record.document, {
        start: n,
        a: ["start"],
        b: ["a", "start"],
        c: ["a", "start"],
        d: ["a", "b", "c", "start"],
      });
      for (const job of record.jobs) {
        assertEquals([job.status, job.attempts], ["succeeded", 1], JSON.stringify(job));
        jobsBy.set(brokerOf(job), (jobsBy.get(brokerOf(job)) ?? 0) + 1);
      }
    });
    assertEquals([...jobsBy.keys()].sort(), ["broker1", "broker2"], "both brokers ran jobs");
    // Each job's outcome recorded once: one finished attempt per job, all told.
    assertEquals(await cluster.metric("pipelinin_jobs_total"), 800);
    assertEquals(await cluster.copiesOnBrokers(), []);
    Deno.stderr.writeSync(
      new TextEncoder().encode(`diamonds: jobs per broker ${JSON.stringify([...jobsBy])}\n`),
    );
  },
});
