/**
 * The Router's functions folder (`start-router --functions <dir>`), shipped to every
 * broker: scanned at start and again after each change in it (watched, like a
 * broker's own folder), announced as a manifest, and served file by file by hash.
 * The bytes of the tree before the last are kept too, so a broker that is still
 * fetching it when the folder changes can finish.
 *
 * @module
 */
import type { Logger } from "../../core/log.ts";
import { FolderWatch } from "../../core/folder_watch.ts";
import type { FunctionsManifestEvent } from "../../core/protocol/mod.ts";
import { scanFolder, type ShippedTree } from "./scan.ts";

/** Quiet time after a file event before the folder is read again, ms. */
const DEBOUNCE_MS = 100;

/** The shipped functions of one folder. */
export class ShippedFunctions {
  readonly #dir: string;
  readonly #log: Logger;
  #current: ShippedTree | undefined;
  #previous: ShippedTree | undefined;
  readonly #listeners = new Set<(manifest: FunctionsManifestEvent) => void>();
  readonly #watch: FolderWatch;

  constructor(dir: string, log: Logger) {
    this.#dir = dir;
    this.#log = log;
    this.#watch = new FolderWatch(dir, DEBOUNCE_MS, () => this.#scan(), log);
  }

  /** Starts watching and reads the folder (in the background). @throws when it cannot be watched. */
  start(): void {
    this.#watch.start();
    this.#watch.rescanNow();
  }

  /** What brokers are told now; undefined before the first read. */
  get manifest(): FunctionsManifestEvent | undefined {
    return this.#current?.manifest;
  }

  /** The bytes of a file of the current (or the previous) tree. */
  file(sha256: string): Uint8Array | undefined {
    return this.#current?.bytes.get(sha256) ?? this.#previous?.bytes.get(sha256);
  }

  /** Calls `listener` with each new manifest; returns an unsubscribe function. */
  onChange(listener: (manifest: FunctionsManifestEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Scans done or under way: resolves once the folder as it is now has been read. */
  settled(): Promise<void> {
    return this.#watch.settled();
  }

  /** Stops watching. */
  close(): Promise<void> {
    return this.#watch.close();
  }

  async #scan(): Promise<void> {
    let scanned;
    try {
      scanned = await scanFolder(this.#dir);
    } catch (error) {
      this.#log.error("Functions folder {dir} is not shipped: {error}", {
        dir: this.#dir,
        error: (error as Error).message,
      });
      return;
    }
    for (const why of scanned.skipped) this.#log.warn("Functions folder: {why}", { why });
    if (scanned.tree.manifest.tree === this.#current?.manifest.tree || this.#watch.closed) return;
    this.#previous = this.#current;
    this.#current = scanned.tree;
    const { manifest } = scanned.tree;
    this.#log.info("Shipping {count} functions from {dir} (tree {tree})", {
      count: manifest.functions.length,
      dir: this.#dir,
      tree: manifest.tree.slice(0, 12),
    });
    for (const listener of this.#listeners) listener(manifest);
  }
}
