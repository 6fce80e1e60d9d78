/**
 * The store spec of the shipped example store, `file_store.ts`: what
 * `--file-store <dir>` means.
 *
 * @module
 */
import { resolve } from "node:path";
import type { StoreSpec } from "../messages/store.ts";

const FILE_STORE_MODULE = new URL("../host/file_store.ts", import.meta.url).href;

/** Keep documents as JSON files in `dir`: the hosts may read and write it, and nothing else. */
export function fileStore(dir: string): StoreSpec {
  const path = resolve(dir);
  return {
    module: FILE_STORE_MODULE,
    options: { dir: path },
    permissions: { read: [path], write: [path] },
  };
}
