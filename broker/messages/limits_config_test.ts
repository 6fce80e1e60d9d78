import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { validateConfig } from "./function_config.ts";

Deno.test("function config: concurrency, concurrencyKey and rateLimit are read when valid", () => {
  const { config, problems } = validateConfig({
    concurrency: 2,
    concurrencyKey: "customer",
    rateLimit: { max: 5, perMs: 1000 },
  });
  assertEquals(problems, []);
  assertEquals(config, {
    concurrency: 2,
    concurrencyKey: "customer",
    rateLimit: { max: 5, perMs: 1000 },
  });
});

Deno.test("function config: each bad limit is a problem of its own, with its value", () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ concurrency: 0 }, '"config.concurrency" must be a whole number from 1 to 100000, got 0'],
    [{ concurrency: "2" }, '"config.concurrency" must be a whole number from 1 to 100000, got "2"'],
    [
      { concurrencyKey: "customer" },
      '"config.concurrencyKey" needs "config.concurrency", the limit per key',
    ],
    [
      { concurrency: 1, concurrencyKey: "" },
      '"config.concurrencyKey" must be a document key of 1 to 200 characters, got ""',
    ],
    [{ rateLimit: 5 }, '"config.rateLimit" must be an object { max, perMs }, got 5'],
    [
      { rateLimit: { max: 5 } },
      '"config.rateLimit.perMs" must be a whole number of ms from 1 to 86400000, got undefined',
    ],
    [
      { rateLimit: { max: 0, perMs: 10 } },
      '"config.rateLimit.max" must be a whole number from 1 to 100000, got 0',
    ],
    [
      { rateLimit: { max: 1, perMs: 10, burst: 2 } },
      'Unknown key "burst" in "config.rateLimit": use max and perMs',
    ],
  ];
  for (const [value, problem] of cases) {
    const { config, problems } = validateConfig(value);
    assertEquals(problems, [problem], JSON.stringify(value));
    assertEquals("rateLimit" in config || "concurrencyKey" in config, false);
  }
});
