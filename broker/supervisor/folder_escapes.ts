/**
 * Entries of the functions folder that reach outside it. Deno checks read permissions
 * (and module loading) on the path as written, not where a symlink leads: with
 * `functions/_store -> <data dir>`, a read of `functions/_store/...` passes a check
 * for `functions/`. So such an entry is never a module or a helper, and worker hosts
 * run with `--deny-read` on it (see `host_table.ts`).
 *
 * @module
 */
import { join, relative } from "node:path";

/** At most this many entries are looked at below one folder entry. */
const MAX_WALK = 10_000;

/** Why the entry at `path` (top level of `dir`) reaches outside `dir`; undefined when it does not. */
export async function escapeOf(dir: string, path: string): Promise<string | undefined> {
  let seen = 0;
  const visit = async (at: string): Promise<string | undefined> => {
    if (++seen > MAX_WALK) return `it holds more than ${MAX_WALK} entries to check`;
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(at);
    } catch {
      return undefined; // Removed meanwhile.
    }
    if (info.isSymlink) {
      let target: string;
      try {
        target = await Deno.realPath(at);
      } catch {
        return `"${relative(dir, at)}" is a broken symlink`;
      }
      return inside(dir, target) ? undefined : `"${relative(dir, at)}" resolves to "${target}"`;
    }
    if (!info.isDirectory) return undefined;
    try {
      for await (const item of Deno.readDir(at)) {
        const why = await visit(join(at, item.name));
        if (why) return why;
      }
    } catch (error) {
      return `"${relative(dir, at)}" cannot be read (${(error as Error).message})`;
    }
    return undefined;
  };
  return await visit(path);
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (rel !== ".." && !rel.startsWith("../") && !rel.startsWith("/"));
}
