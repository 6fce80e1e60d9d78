/**
 * The hashes that name shipped files and trees (`functions-manifest`): a file by the
 * SHA-256 of its bytes, a tree by the SHA-256 of its file list, so both sides compute
 * the same name from the same files and a broker can check the list it was sent.
 *
 * @module
 */
import type { ManifestFile } from "./messages.ts";

const encoder = new TextEncoder();

/** SHA-256 of `bytes`, as 64 lowercase hex digits. */
export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The tree hash of a file list: SHA-256 of `path NUL sha256 NUL size LF` per file, by path. */
export function treeHash(files: readonly ManifestFile[]): Promise<string> {
  const lines = [...files]
    .sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
    .map((file) => `${file.path}\0${file.sha256}\0${file.size}\n`);
  return sha256Hex(lines.join(""));
}
