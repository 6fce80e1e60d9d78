import { assert, assertEquals } from "../../tests/_assert.ts";
import {
  importDescribeKey,
  newDescribeKey,
  signDescription,
  verifyDescription,
} from "./describe_mac.ts";

Deno.test("a description signed by the host checks out, and nothing else does", async () => {
  const { key, base64 } = await newDescribeKey();
  const check = await importDescribeKey(base64);
  const body = JSON.stringify({
    ok: true,
    description: { config: {}, problems: [], hasDefault: true },
  });
  const mac = await signDescription(key, 7, body);
  assert(await verifyDescription(check, 7, body, mac));
  const cases: [string, number, string, string][] = [
    ["another id", 8, body, mac],
    ["another body", 7, body.replace("true", "false"), mac],
    ["a made-up mac", 7, body, btoa("x".repeat(32))],
    ["a mac that is not base64", 7, body, "%%%"],
  ];
  for (const [what, id, text, tag] of cases) {
    assertEquals(await verifyDescription(check, id, text, tag), false, what);
  }
  const other = await newDescribeKey();
  assertEquals(
    await verifyDescription(await importDescribeKey(other.base64), 7, body, mac),
    false,
    "another host's key",
  );
});
