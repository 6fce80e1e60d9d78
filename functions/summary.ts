/** Sums up a crawl: the page, how many links it has, and what fetching each gave. */
import type { FunctionConfig, JsonObject } from "../mod.ts";

export const config: FunctionConfig = { requires: ["url", "links", "pages"] };

export default function summary(input: JsonObject): JsonObject {
  const pages = Array.isArray(input.pages) ? input.pages : [];
  const fetched = pages.filter((page) =>
    typeof page === "object" && page !== null && !Array.isArray(page) && page.status === 200
  );
  return {
    summary: {
      page: input.url ?? null,
      links: Array.isArray(input.links) ? input.links.length : 0,
      fetched: fetched.length,
      broken: pages.length - fetched.length,
    },
  };
}
