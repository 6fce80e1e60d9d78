/** Extracts the visible text of `html` and its words (the seed's `GetTextAndWords`). */
import type { FunctionConfig, JsonObject } from "../mod.ts";

export const config: FunctionConfig = { requires: ["html"] };

export default function textAndWords(input: JsonObject): JsonObject {
  const text = String(input.html)
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/\s+/g, " ")
    .trim();
  const words = text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  return { text, words };
}
