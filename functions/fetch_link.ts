/**
 * Fetches one link of a page (`item`, relative to the page's `url`): one item of the
 * crawl's `map` over `links`, so each link is a job of its own, retried on its own.
 */
import type { FunctionConfig, FunctionContext, JsonObject } from "../mod.ts";

export const config: FunctionConfig = {
  requires: ["url", "item"],
  permissions: { net: ["127.0.0.1", "localhost"] },
  timeoutMs: 10_000,
  retries: 2,
};

export default async function fetchLink(
  input: JsonObject,
  ctx: FunctionContext,
): Promise<JsonObject> {
  const url = new URL(String(input.item), String(input.url)).href;
  const response = await fetch(url, { signal: ctx.signal });
  const html = await response.text();
  const title = /<h1[^>]*>([^<]*)<\/h1>/i.exec(html)?.[1]?.trim() ?? null;
  return { url, status: response.status, bytes: html.length, title };
}
