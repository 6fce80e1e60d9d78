/**
 * The allow-list file of a Router on CURVE: one peer per line, `<public key> <role>`
 * (`broker`, `pipeliner` or `client`), then at most a `# comment`; lines that start
 * with `#` (but not with a key: Z85 has `#` too) and blank lines are skipped.
 *
 * @module
 */
import { isZ85Key } from "../../core/curve_keys.ts";

/** What a key may do: see `roles.ts`. */
export type PeerRole = "broker" | "pipeliner" | "client";

/** One allowed key. */
export interface AllowEntry {
  /** The peer's public key, Z85. */
  readonly key: string;
  readonly role: PeerRole;
}

const ROLES: ReadonlySet<string> = new Set<PeerRole>(["broker", "pipeliner", "client"]);

/** Whether `value` names a role. */
export function isRole(value: string): value is PeerRole {
  return ROLES.has(value);
}

/**
 * Parses an allow-list's text.
 *
 * @throws {SyntaxError} naming the file and the first bad line.
 */
export function parseAllowList(text: string, file: string): AllowEntry[] {
  const entries: AllowEntry[] = [];
  const seen = new Map<string, number>();
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const [key, role, ...rest] = raw.trim().split(/\s+/).filter((token) => token !== "");
    // Z85 has "#" too: a line is a comment when it starts with "#" and not with a key.
    if (key === undefined || (key.startsWith("#") && !isZ85Key(key))) return;
    const fail = (why: string) => {
      throw new SyntaxError(`Allow-list "${file}" line ${line}: ${why}: "${raw.trim()}"`);
    };
    if (role === undefined || (rest.length > 0 && !rest[0]!.startsWith("#"))) {
      fail("expected `<public key> <role>`, then at most a # comment");
    }
    if (!isZ85Key(key)) fail("the key is not a 40-character Z85 public key");
    if (!isRole(role!)) fail(`the role is not broker, pipeliner or client`);
    const before = seen.get(key);
    if (before !== undefined) fail(`the key is listed already, on line ${before}`);
    seen.set(key, line);
    entries.push({ key, role: role as PeerRole });
  });
  return entries;
}
