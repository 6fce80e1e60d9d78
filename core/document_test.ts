import { assertEquals } from "../tests/_assert.ts";
import { restrictInput } from "./document.ts";
import type { JsonObject } from "./types.ts";

const restricted: Array<[string, JsonObject, string[] | undefined, string]> = [
  ["keeps only the required keys", { a: 1, b: 2 }, ["b", "c"], '{"b":2}'],
  ["keeps everything without requires", { a: 1 }, undefined, '{"a":1}'],
  ["keeps nothing for an empty list", { a: 1 }, [], "{}"],
  ["never takes keys from the prototype", { a: 1 }, ["toString", "a"], '{"a":1}'],
  [
    "keeps a __proto__ key",
    JSON.parse('{"__proto__": 1, "b": 2}'),
    ["__proto__"],
    '{"__proto__":1}',
  ],
];

for (const [name, document, requires, expected] of restricted) {
  Deno.test(`restrictInput ${name}`, () => {
    assertEquals(JSON.stringify(restrictInput(document, requires)), expected);
  });
}
