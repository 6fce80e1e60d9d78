/**
 * Downloads `url` and adds its HTML to the document (the seed's `Downloader`).
 * Allowed to connect to the local demo server only; add the hosts you need.
 */
import type { FunctionConfig, FunctionContext, JsonObject } from "../mod.ts";

export const config: FunctionConfig = {
  requires: ["url"],
  permissions: { net: ["127.0.0.1", "localhost"] },
  timeoutMs: 10_000,
  retries: 2,
};

export default async function downloader(
  input: JsonObject,
  ctx: FunctionContext,
): Promise<JsonObject> {
  const url = String(input.url);
  const response = await fetch(url, { signal: ctx.signal });
  if (!response.ok) throw new Error(`GET "${url}" answered ${response.status}`);
  const html = await response.text();
  ctx.log.info("Downloaded {bytes} bytes from {url}", { bytes: html.length, url });
  return { html, status: response.status };
}
