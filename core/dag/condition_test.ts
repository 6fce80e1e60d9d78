import { assert, assertEquals } from "../../tests/_assert.ts";
import { conditionHolds, conditionProblems, isCondition } from "./condition.ts";
import type { Condition, JsonObject } from "../types.ts";

const input: JsonObject = {
  status: 200,
  name: "page",
  page: { links: ["a", "b"], size: 12 },
  empty: null,
};

const cases: Array<[string, Condition, boolean]> = [
  ["eq holds", { path: "status", op: "eq", value: 200 }, true],
  ["eq is strict", { path: "status", op: "eq", value: "200" }, false],
  ["ne of a missing path holds", { path: "nope", op: "ne", value: 1 }, true],
  ["gt between numbers", { path: "page.size", op: "gt", value: 10 }, true],
  ["gte at the bound", { path: "page.size", op: "gte", value: 12 }, true],
  ["lt false", { path: "page.size", op: "lt", value: 12 }, false],
  ["lte between strings", { path: "name", op: "lte", value: "pagf" }, true],
  ["gt of a string and a number is false", { path: "name", op: "gt", value: 1 }, false],
  ["in holds", { path: "status", op: "in", value: [200, 201] }, true],
  ["in of a missing path is false", { path: "x", op: "in", value: [null] }, false],
  ["exists of null holds", { path: "empty", op: "exists" }, true],
  ["exists of a missing path fails", { path: "page.none", op: "exists" }, false],
  ["a list index in a path", { path: "page.links.1", op: "eq", value: "b" }, true],
  ["a path through a scalar", { path: "status.x", op: "exists" }, false],
  ["no inherited keys", { path: "page.constructor", op: "exists" }, false],
  ["all", { all: [{ path: "status", op: "eq", value: 200 }, { path: "x", op: "exists" }] }, false],
  ["any", { any: [{ path: "x", op: "exists" }, { path: "name", op: "eq", value: "page" }] }, true],
  ["not", { not: { path: "x", op: "exists" } }, true],
  [
    "nested",
    {
      all: [
        { any: [{ path: "status", op: "in", value: [500] }, { not: { path: "x", op: "exists" } }] },
        { not: { all: [{ path: "page.size", op: "lt", value: 5 }] } },
      ],
    },
    true,
  ],
];

for (const [name, condition, expected] of cases) {
  Deno.test(`condition: ${name}`, () => {
    assert(isCondition(condition), conditionProblems(condition, "c").join("; "));
    assertEquals(conditionHolds(condition, input), expected);
  });
}

Deno.test("a malformed condition lists every problem", () => {
  const problems = conditionProblems(
    {
      all: [
        { path: "", op: "eq", value: 1 },
        { path: "a", op: "like", value: "x" },
        { path: "a", op: "exists", value: true },
        { path: "a", op: "gt", value: true },
        { path: "a", op: "in", value: [{}] },
        { path: "a", op: "eq" },
        { path: "a", op: "eq", value: { code: 1 } },
        { any: [] },
        { not: 3 },
        { all: [], any: [] },
        { path: "a", op: "eq", value: 1, extra: 1 },
      ],
    },
    "when",
  );
  assertEquals(problems, [
    "when.all[0].path must be a dotted path of non-empty keys of at most 200 characters",
    'when.all[1].op must be one of "eq", "ne", "gt", "gte", "lt", "lte", "in", "exists"',
    'when.all[2] tests "exists" and takes no value',
    'when.all[3] compares with "gt": its value must be a number or a string',
    "when.all[4].value must hold only strings, numbers, booleans or null",
    'when.all[5] tests "eq" and needs a value',
    'when.all[6].value must be a string, number, boolean or null, got {"code":1}',
    "when.all[7].any must be a non-empty list of conditions",
    "when.all[8].not must be a condition object, got 3",
    'when.all[9] must hold only "all", got ["all","any"]',
    'when.all[10] has an unknown field "extra"',
  ]);
});

Deno.test("a condition nested too deep or too big is refused, not walked", () => {
  let deep: unknown = { path: "a", op: "exists" };
  for (let i = 0; i < 100_000; i++) deep = { not: deep };
  assertEquals(conditionProblems(deep, "when"), [
    "when.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not is nested deeper than 16 levels",
  ]);
  const wide = { any: Array.from({ length: 10_000 }, () => ({ path: "a", op: "exists" })) };
  assertEquals(conditionProblems(wide, "when"), ["when has more than 256 tests"]);
});
