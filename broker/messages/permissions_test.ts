import { assertEquals } from "../../tests/_assert.ts";
import { parseWorkerPermissions } from "./permissions.ts";

const none = { net: false, read: false, write: false, env: false };
const closed = { run: false, ffi: false, sys: false, import: false } as const;

Deno.test("a host reads each kind of a function's permissions, and never one that escapes", () => {
  assertEquals(
    parseWorkerPermissions({ ...none, ...closed, net: ["127.0.0.1:8000"], read: true, extra: 1 }),
    { ...none, ...closed, net: ["127.0.0.1:8000"], read: true },
  );
  const refused: Array<[unknown, string]> = [
    [null, "permissions must be an object"],
    [[], "permissions must be an object"],
    [{ ...none, ...closed, run: true }, "permissions.run must be false"],
    [{ ...none, run: false, sys: false, import: false }, "permissions.ffi must be false"],
    [{ ...none, ...closed, net: 5 }, "permissions.net must be a boolean or a list of strings"],
    [
      { ...none, ...closed, read: ["/a", 1] },
      "permissions.read must be a boolean or a list of strings",
    ],
    [
      { ...closed, net: false, read: false, write: false },
      "permissions.env must be a boolean or a list of strings",
    ],
  ];
  for (const [value, message] of refused) {
    let thrown: unknown;
    try {
      parseWorkerPermissions(value);
    } catch (error) {
      thrown = error;
    }
    assertEquals([thrown instanceof TypeError, (thrown as Error | undefined)?.message], [
      true,
      message,
    ]);
  }
});
