/**
 * Reads the Router's functions folder into what it ships: every file by its SHA-256,
 * and the functions (top-level `<name>.ts` / `<name>.js`, as a broker names them).
 * The Router only reads and hashes bytes: it never imports user code (it has no
 * sandbox). Symlinks and hidden entries are left out (a link could ship what lies
 * outside the folder), and so is a file over the size cap; a folder over the count
 * or total cap is not shipped at all.
 *
 * @module
 */
import { join } from "node:path";
import {
  type FunctionsManifestEvent,
  type ManifestFile,
  type ManifestFunction,
  PROTOCOL_LIMITS,
  sha256Hex,
  treeHash,
} from "../../core/protocol/mod.ts";

/** A folder as shipped: its manifest, and the bytes of each file by hash. */
export interface ShippedTree {
  manifest: FunctionsManifestEvent;
  bytes: Map<string, Uint8Array>;
}

/** What a scan left out, one sentence each (for the log). */
export type Skipped = string[];

/** One part of a path a broker accepts (see `core/protocol/_manifest.ts`). */
const PART = /^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,254}$/;
const MODULE = /^([^_.][^/]*)\.(ts|js)$/;

/**
 * Reads `dir`.
 *
 * @throws {Error} when the folder cannot be read, or holds more files or bytes than
 *   a manifest may carry.
 */
export async function scanFolder(dir: string): Promise<{ tree: ShippedTree; skipped: Skipped }> {
  const files: ManifestFile[] = [];
  const bytes = new Map<string, Uint8Array>();
  const skipped: Skipped = [];
  let total = 0;
  const visit = async (at: string, prefix: string): Promise<void> => {
    const names: Array<{ name: string; info: Deno.DirEntry }> = [];
    for await (const info of Deno.readDir(at)) names.push({ name: info.name, info });
    names.sort((a, b) => a.name < b.name ? -1 : 1);
    for (const { name, info } of names) {
      const path = prefix === "" ? name : `${prefix}/${name}`;
      if (name.startsWith(".")) continue;
      if (info.isSymlink) {
        skipped.push(`"${path}" is a symlink: not shipped`);
        continue;
      }
      if (!PART.test(name) || path.length > PROTOCOL_LIMITS.maxPathLength) {
        skipped.push(`"${path}" has a name brokers do not take: not shipped`);
        continue;
      }
      if (info.isDirectory) {
        await visit(join(at, name), path);
        continue;
      }
      if (!info.isFile) continue;
      let content: Uint8Array;
      try {
        const stat = await Deno.lstat(join(at, name));
        if (stat.size > PROTOCOL_LIMITS.maxShippedFileBytes) {
          skipped.push(
            `"${path}" has ${stat.size} bytes, over ${PROTOCOL_LIMITS.maxShippedFileBytes}: not shipped`,
          );
          continue;
        }
        content = await Deno.readFile(join(at, name));
      } catch {
        continue; // Removed meanwhile: the next scan sees the folder as it is.
      }
      if (content.length > PROTOCOL_LIMITS.maxShippedFileBytes) continue;
      if (files.length >= PROTOCOL_LIMITS.maxShippedFiles) {
        throw new Error(`It holds more than ${PROTOCOL_LIMITS.maxShippedFiles} files`);
      }
      total += content.length;
      if (total > PROTOCOL_LIMITS.maxShippedBytes) {
        throw new Error(`Its files add up to more than ${PROTOCOL_LIMITS.maxShippedBytes} bytes`);
      }
      const sha256 = await sha256Hex(content);
      files.push({ path, sha256, size: content.length });
      bytes.set(sha256, content);
    }
  };
  await visit(dir, "");
  const functions: ManifestFunction[] = [];
  for (const file of files) {
    const match = MODULE.exec(file.path);
    if (!match?.[1] || /_test\.(ts|js)$/.test(file.path)) continue;
    if (match[1].length > PROTOCOL_LIMITS.maxIdLength) continue;
    // `x.ts` and `x.js` both: the `.ts` one, as a broker's own folder reports it.
    const other = functions.findIndex((fn) => fn.name === match[1]);
    if (other >= 0) {
      skipped.push(`"${file.path}" and "${functions[other]!.entry}" are both "${match[1]}"`);
      if (match[2] === "ts") functions[other] = { name: match[1], entry: file.path };
      continue;
    }
    functions.push({ name: match[1], entry: file.path });
  }
  const manifest: FunctionsManifestEvent = {
    type: "functions-manifest",
    tree: await treeHash(files),
    files,
    functions,
  };
  return { tree: { manifest, bytes }, skipped };
}
