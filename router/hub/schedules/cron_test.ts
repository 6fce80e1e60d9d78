import { assert, assertEquals } from "../../../tests/_assert.ts";
import { compileCron, type CronTimes } from "./cron.ts";

function times(expression: string, timezone = "UTC"): CronTimes {
  const compiled = compileCron(expression, timezone);
  if (Array.isArray(compiled)) throw new Error(compiled.join("; "));
  return compiled;
}

const at = (iso: string) => Date.parse(iso);

Deno.test("cron: a six-field expression ticks on its seconds, the next strictly after", () => {
  const every2 = times("*/2 * * * * *");
  assertEquals(every2.next(at("2026-12-03T10:00:00.000Z")), at("2026-12-03T10:00:02.000Z"));
  assertEquals(every2.next(at("2026-12-03T10:00:00.500Z")), at("2026-12-03T10:00:02.000Z"));
  assertEquals(every2.next(at("2026-12-03T10:00:01.999Z")), at("2026-12-03T10:00:02.000Z"));
});

Deno.test("cron: the latest tick at or before a moment, including one at that moment", () => {
  const every2 = times("*/2 * * * * *");
  assertEquals(every2.latest(at("2026-12-03T10:00:02.000Z")), at("2026-12-03T10:00:02.000Z"));
  assertEquals(every2.latest(at("2026-12-03T10:00:03.999Z")), at("2026-12-03T10:00:02.000Z"));
  // A year of downtime is computed, not walked tick by tick.
  const nightly = times("0 3 * * *", "Europe/Paris");
  assertEquals(nightly.latest(at("2027-12-03T12:00:00Z")), at("2027-12-03T02:00:00Z"));
});

Deno.test("cron: fields are read in the time zone, across a change of daylight saving time", () => {
  const nightly = times("0 3 * * *", "Europe/Paris");
  assertEquals(nightly.next(at("2026-12-03T12:00:00Z")), at("2026-12-04T02:00:00Z"));
  assertEquals(nightly.next(at("2026-07-03T12:00:00Z")), at("2026-07-04T01:00:00Z"));
  assertEquals(
    times("0 3 * * *", "America/New_York").next(at("2026-12-03T12:00:00Z")),
    at("2026-12-04T08:00:00Z"),
  );
});

Deno.test("cron: every problem of an expression and its time zone is named", () => {
  const table: Array<[string, string, RegExp[]]> = [
    ["61 * * * *", "UTC", [/"cron" is not a valid cron expression: .*minute/]],
    ["* * *", "UTC", [/"cron" is not a valid/]],
    ["0 0 0 * * * 2030", "UTC", [/"cron" is not a valid/]],
    ["0 0 30 2 *", "UTC", [/never comes again/]],
    ["2030-01-01T00:00:00", "UTC", [/is a date|not a valid/]],
    ["* * * * *", "Mars/Olympus", [/not a known IANA time zone/]],
    ["61 * * * *", "Mars/Olympus", [/time zone/, /"cron" is not a valid/]],
    ["* * * * *", "", [/"timezone" must be 1 to 64 characters/]],
    ["* ".repeat(200), "UTC", [/longer than 256/]],
  ];
  for (const [expression, zone, expected] of table) {
    const result = compileCron(expression, zone);
    assert(Array.isArray(result), `${expression} in ${zone} was taken`);
    assertEquals(result.length, expected.length, result.join("; "));
    expected.forEach((pattern, i) =>
      assert(pattern.test(result[i]!), `${result[i]} !~ ${pattern}`)
    );
  }
});
