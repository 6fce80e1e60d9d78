/**
 * `deno task keygen --out <file>`: makes a CURVE key pair for a Router or one of its
 * peers, writes it to a new file as `{"public", "secret"}` (mode 0600), and prints
 * the public key, which goes on the Router's allow-list (or to its peers, for the
 * Router's own).
 *
 * @module
 */
// deno-lint-ignore-file no-console -- a command-line tool prints to the terminal
import { parseOrExit } from "../core/daemon.ts";
import { newCurveKeys, writeKeyFile } from "../core/curve_keys.ts";

const spec = {
  usage: "deno task keygen",
  description:
    "Makes a CURVE key pair, writes it to a new file (mode 0600) and prints its public key.",
  flags: {
    out: { type: "string", description: "The file to write; it must not exist yet" },
  },
} as const;

const { values } = parseOrExit(spec);
try {
  if (values.out === undefined) throw new TypeError("Give --out <file>");
  const keys = newCurveKeys();
  writeKeyFile(values.out, keys);
  console.log(keys.publicKey);
} catch (error) {
  console.error(`keygen: ${(error as Error).message}`);
  Deno.exit(1);
}
