import { assertEquals } from "../../tests/_assert.ts";
import { parseAllowList } from "./allow_list.ts";

const KEY = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const HASH_KEY = "#q:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

Deno.test("an allow-list takes keys with roles, comments and blank lines", () => {
  const text = [
    "# peers of the test cluster",
    `${KEY} broker   # the first`,
    "",
    `  ${HASH_KEY}\tclient`,
    `#${KEY} pipeliner`,
  ].join("\n");
  assertEquals(parseAllowList(text, "allow.txt"), [
    { key: KEY, role: "broker" },
    { key: HASH_KEY, role: "client" },
  ]);
});

Deno.test("a bad allow-list line is refused with its file and number", () => {
  const cases: Array<[string, string]> = [
    [`${KEY}`, "line 2: expected `<public key> <role>`"],
    [`${KEY} admin`, "line 2: the role is not broker, pipeliner or client"],
    [`${KEY.slice(1)} broker`, "line 2: the key is not a 40-character Z85 public key"],
    [`${KEY} broker extra`, "line 2: expected `<public key> <role>`"],
    [`${KEY.slice(0, 39)}" client`, "line 2: the key is not"],
  ];
  for (const [line, expected] of cases) {
    let message = "";
    try {
      parseAllowList(`# first\n${line}`, "allow.txt");
    } catch (error) {
      message = (error as Error).message;
    }
    assertEquals(message.startsWith(`Allow-list "allow.txt" ${expected}`), true, message);
  }
  let duplicate = "";
  try {
    parseAllowList(`${KEY} broker\n${KEY} client`, "a");
  } catch (error) {
    duplicate = (error as Error).message;
  }
  assertEquals(duplicate.includes("line 2: the key is listed already, on line 1"), true, duplicate);
});
