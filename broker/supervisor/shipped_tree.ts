/**
 * The broker's copy of the functions the Router ships: every file it was sent, by
 * hash, checked before it is written (its size, its SHA-256, the manifest's tree
 * hash), and one folder per tree, laid out as the Router's folder is, so relative
 * imports resolve and two versions never mix. A tree's folder is written whole under
 * a temporary name and renamed into place: a host never sees half of one. The
 * worker hosts may read the cache, never write it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { join, resolve, sep } from "node:path";
import {
  type FunctionsManifestEvent,
  type ManifestFile,
  parseFileContent,
  sha256Hex,
  treeHash,
} from "../../core/protocol/mod.ts";

/** Files fetched at once. */
const FETCHES_AT_ONCE = 4;

/** Fetches a file's content by hash (a `fetch-file` request's result, unparsed). */
export type FileFetcher = (sha256: string) => Promise<unknown>;

/** A manifest or a file that does not check out: it is refused, never written. */
export class ShippedFileError extends Error {
  override name = "ShippedFileError";
}

/** The cache of shipped trees in one folder (`<dir>/blobs/<sha256>`, `<dir>/trees/<tree>/`). */
export class ShippedTrees {
  readonly #dir: string;

  /** `dir` is created on first use; the broker must be allowed to write it. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The folder of the cache (what hosts may read). */
  get dir(): string {
    return this.#dir;
  }

  /**
   * The folder of the manifest's tree, fetching and checking what is not cached yet.
   *
   * @throws {ShippedFileError} when the manifest's tree hash or a file's bytes do not
   *   match; `Error`s of the fetch as they come.
   */
  async materialize(manifest: FunctionsManifestEvent, fetch: FileFetcher): Promise<string> {
    const tree = await treeHash(manifest.files);
    if (tree !== manifest.tree) {
      throw new ShippedFileError(
        `The manifest's tree hash ${manifest.tree} is not that of its files (${tree})`,
      );
    }
    const root = join(this.#dir, "trees", tree);
    if (await exists(root)) return root;
    await Deno.mkdir(join(this.#dir, "blobs"), { recursive: true });
    const queue = [...manifest.files];
    const fetchSome = async () => {
      for (let file = queue.shift(); file; file = queue.shift()) await this.#blob(file, fetch);
    };
    await Promise.all(Array.from({ length: FETCHES_AT_ONCE }, fetchSome));
    const temp = join(this.#dir, "trees", `.${tree}-${crypto.randomUUID().slice(0, 8)}`);
    try {
      for (const file of manifest.files) {
        const target = inside(temp, file.path);
        await Deno.mkdir(resolve(target, ".."), { recursive: true });
        await Deno.copyFile(this.#blobPath(file.sha256), target);
      }
      await Deno.mkdir(temp, { recursive: true }); // An empty tree is a folder too.
      await Deno.rename(temp, root);
    } catch (error) {
      await Deno.remove(temp, { recursive: true }).catch(() => {});
      if (await exists(root)) return root; // Written meanwhile by another sync.
      throw error;
    }
    return root;
  }

  /** Removes the trees, and the files, that no manifest of `keep` holds. */
  async prune(keep: readonly FunctionsManifestEvent[]): Promise<void> {
    const trees = new Set(keep.map((manifest) => manifest.tree));
    const blobs = new Set(keep.flatMap((manifest) => manifest.files.map((file) => file.sha256)));
    await removeOthers(join(this.#dir, "trees"), trees);
    await removeOthers(join(this.#dir, "blobs"), blobs);
  }

  /** Removes the whole cache. */
  async close(): Promise<void> {
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  #blobPath(sha256: string): string {
    return join(this.#dir, "blobs", sha256);
  }

  async #blob(file: ManifestFile, fetch: FileFetcher): Promise<void> {
    const path = this.#blobPath(file.sha256);
    if (await exists(path)) return;
    const content = parseFileContent(await fetch(file.sha256));
    const bytes = new Uint8Array(Buffer.from(content.data, "base64"));
    const actual = await sha256Hex(bytes);
    if (content.sha256 !== file.sha256 || actual !== file.sha256 || bytes.length !== file.size) {
      throw new ShippedFileError(
        `Refused "${file.path}": the Router sent ${bytes.length} bytes with SHA-256 ${actual}, the manifest says ${file.size} bytes with ${file.sha256}`,
      );
    }
    const temp = `${path}.${crypto.randomUUID().slice(0, 8)}`;
    await Deno.writeFile(temp, bytes, { mode: 0o644 });
    await Deno.rename(temp, path);
  }
}

/** `path` below `root`; the manifest's parser already refused paths that leave it. */
function inside(root: string, path: string): string {
  const target = resolve(root, path);
  if (!target.startsWith(root + sep) || path.includes("\0")) {
    throw new ShippedFileError(`Refused the path "${path}": it leaves the tree's folder`);
  }
  return target;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function removeOthers(dir: string, keep: ReadonlySet<string>): Promise<void> {
  try {
    for await (const item of Deno.readDir(dir)) {
      if (keep.has(item.name) || item.name.startsWith(".")) continue;
      await Deno.remove(join(dir, item.name), { recursive: true }).catch(() => {});
    }
  } catch {
    // Not made yet.
  }
}
