/**
 * The tutorial's crawl: `downloader` fetches a page, `links` finds its links, `pages`
 * fetches each of them (a `map` over `links`: one job per link, four at a time), and
 * `summary` sums it up. `text_and_words` runs beside `links`, as in the seed.
 *
 * @module
 */
import type { JobOptions } from "../mod.ts";

/** The crawl's graph and job options, for `new Pipeline(crawl.graph, { data, jobs: crawl.jobs })`. */
export const crawl: {
  graph: Record<string, string | string[]>;
  jobs: Record<string, string | JobOptions>;
} = {
  graph: { downloader: ["text_and_words", "links"], links: "pages", pages: "summary" },
  jobs: { pages: { fn: "fetch_link", map: "links", mapConcurrency: 4 } },
};
