/** Lists the links (`href`s) of `html` (the seed's `GetLinks`). */
import type { FunctionConfig, JsonObject } from "../mod.ts";

export const config: FunctionConfig = { requires: ["html"] };

export default function links(input: JsonObject): JsonObject {
  const found = [...String(input.html).matchAll(/<a\s[^>]*href\s*=\s*["']([^"']+)["']/gi)]
    .map((match) => match[1]!);
  return { links: [...new Set(found)] };
}
