import { assert, assertEquals } from "../../tests/_assert.ts";
import { beyondCap, parsePermissionCap } from "./permission_cap.ts";

const DIR = "/srv/functions";

Deno.test("the permission cap refuses what it does not cover, kind by kind", () => {
  const cap = parsePermissionCap(
    '{"net":["127.0.0.1:8000","example.com"],"read":["data","/etc/ssl"],"env":["APP_*"]}',
  );
  const cases: Array<[string, Parameters<typeof beyondCap>[0], string[]]> = [
    ["nothing asked", {}, []],
    ["false is nothing", { write: false, net: false }, []],
    ["an exact host and port", { net: ["127.0.0.1:8000"] }, []],
    ["another port", { net: ["127.0.0.1:9000"] }, ['net "127.0.0.1:9000"']],
    ["a host without port covers its ports", { net: ["example.com:443", "example.com"] }, []],
    ["all of net", { net: true }, ["net (all)"]],
    ["a path under a relative cap", { read: ["data/x.json", "./data"] }, []],
    ["a path under an absolute cap", { read: ["/etc/ssl/certs"] }, []],
    ["a path beside the cap", { read: ["/etc/passwd", "data/../secret"] }, [
      'read "/etc/passwd", "data/../secret"',
    ]],
    ["a sibling whose name starts like the cap", { read: ["/etc/ssl2"] }, ['read "/etc/ssl2"']],
    ["a kind the cap leaves out", { write: ["/tmp"] }, ['write "/tmp"']],
    ["an env prefix", { env: ["APP_KEY", "APP_X*"] }, []],
    ["env outside the prefix", { env: ["HOME"] }, ['env "HOME"']],
  ];
  for (const [what, declared, expected] of cases) {
    assertEquals(beyondCap(declared, cap, DIR), expected, what);
  }
  assertEquals(beyondCap({ read: true, env: true }, { read: true }, DIR), ["env (all)"]);
});

Deno.test("a permission cap that is not a valid permissions object is refused at start", () => {
  for (
    const [json, says] of [["{net:", "not JSON"], ['{"run":true}', "never granted"], [
      '{"net":["a,b"]}',
      "not valid",
    ]]
  ) {
    let error: unknown;
    try {
      parsePermissionCap(json!);
    } catch (e) {
      error = e;
    }
    assert(error instanceof TypeError && error.message.includes(says!), `${json}: ${error}`);
  }
});
