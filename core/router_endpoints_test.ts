import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { MAX_ROUTER_ENDPOINTS, routerEndpoints } from "./router_endpoints.ts";

Deno.test("routerEndpoints takes one endpoint, a comma list or a list", () => {
  const cases: Array<[string | string[], string[]]> = [
    ["tcp://127.0.0.1:5555", ["tcp://127.0.0.1:5555"]],
    ["tcp://a:5555,tcp://b.example:5555", ["tcp://a:5555", "tcp://b.example:5555"]],
    [" tcp://a:5555 , tcp://b:6000 ", ["tcp://a:5555", "tcp://b:6000"]],
    [["tcp://[::1]:5555", "ipc:///tmp/router.sock"], [
      "tcp://[::1]:5555",
      "ipc:///tmp/router.sock",
    ]],
    ["inproc://router", ["inproc://router"]],
  ];
  for (const [given, expected] of cases) assertEquals(routerEndpoints("--router", given), expected);
});

Deno.test("routerEndpoints refuses a bad endpoint, naming it", () => {
  const cases: Array<[string | string[], RegExp]> = [
    ["", /at least one Router endpoint/],
    [[], /at least one Router endpoint/],
    ["tcp://a:5555,", /bad Router endpoint "": empty/],
    ["tcp://a:5555,tcp://nowhere", /bad Router endpoint "tcp:\/\/nowhere"/],
    ["http://a:8080", /bad Router endpoint "http:\/\/a:8080": expected tcp/],
    ["tcp://*:5555", /wildcard/],
    ["tcp://a:0", /port 0 is not between 1 and 65535/],
    ["tcp://a:70000", /port 70000/],
    ["tcp://a b:5555", /bad Router endpoint/],
    ["tcp://a:5555,tcp://a:5555", /"tcp:\/\/a:5555" twice/],
    [
      Array.from({ length: MAX_ROUTER_ENDPOINTS + 1 }, (_, n) => `tcp://a:${n + 1}`),
      /at most 16/,
    ],
  ];
  for (const [given, message] of cases) {
    assertThrows(() => routerEndpoints("--router", given), (error: Error) => {
      return error instanceof TypeError && message.test(error.message) &&
        error.message.startsWith("--router");
    }, String(given));
  }
});
