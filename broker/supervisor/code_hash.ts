/**
 * What "the same code" means when the Router and a broker's own folder both have a
 * function of one name: the SHA-256 over its module and every helper of its folder
 * (what its Web Worker may import), each file by relative path and hash. Both copies
 * are hashed by this one walk over a folder on disk (the Router's copy as the broker
 * wrote it), so equal files give equal hashes.
 *
 * @module
 */
import { join, relative } from "node:path";
import { sha256Hex } from "../../core/protocol/mod.ts";

/** At most this many files are hashed below the helpers of one folder. */
const MAX_FILES = 10_000;

/** `relative path NUL sha256 LF` of each file below `paths` (files or folders), sorted. */
export async function fileLines(dir: string, paths: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  const visit = async (at: string): Promise<void> => {
    if (lines.length >= MAX_FILES) return;
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(at);
    } catch {
      return; // Removed meanwhile.
    }
    if (info.isDirectory) {
      const names: string[] = [];
      try {
        for await (const item of Deno.readDir(at)) {
          if (!item.name.startsWith(".")) names.push(item.name);
        }
      } catch {
        return;
      }
      for (const name of names.sort()) await visit(join(at, name));
      return;
    }
    if (!info.isFile) return;
    try {
      lines.push(`${relative(dir, at)}\0${await sha256Hex(await Deno.readFile(at))}\n`);
    } catch {
      // Removed meanwhile: the next scan sees it as it is.
    }
  };
  for (const path of paths) await visit(path);
  return lines.sort();
}

/** The code hash of the module at `path` with the helper lines of its folder. */
export async function codeHash(
  dir: string,
  path: string,
  helperLines: readonly string[],
): Promise<string> {
  const [own] = await fileLines(dir, [path]);
  return await sha256Hex([own ?? "", ...helperLines].join(""));
}
