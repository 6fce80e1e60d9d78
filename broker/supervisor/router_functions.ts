/**
 * The functions the Router ships, on this broker: each manifest the Router announces
 * is fetched into the cache (`shipped_tree.ts`) and described in the hosts like a
 * folder of the broker's own (a registry over the tree's folder, which never
 * changes), and only then replaces the tree before it, at once. The newest manifest
 * wins: one announced while another is being fetched is taken next. A tree that
 * does not check out is refused with a log line and the tree before it serves on.
 *
 * @module
 */
import { getLogger } from "../../core/log.ts";
import type { FunctionsManifestEvent } from "../../core/protocol/mod.ts";
import type { FunctionPermissions } from "../../core/types.ts";
import { type Describer, FunctionRegistry } from "./function_registry.ts";
import { type FileFetcher, ShippedTrees } from "./shipped_tree.ts";

/** How often a tree that could not be taken is tried again, and how long to wait between. */
const TRIES = 5;
const RETRY_MS = 1_000;

/** How to build a {@linkcode RouterFunctions}. */
export interface RouterFunctionsOptions {
  /** The cache folder (the broker writes it, its hosts read it). */
  cacheDir: string;
  describe: Describer;
  fetch: FileFetcher;
  maxPermissions?: FunctionPermissions;
  /** Shared with the broker's own registry: see `FunctionRegistryOptions.nextVersion`. */
  nextVersion: () => number;
}

/** The Router's functions as this broker serves them. */
export class RouterFunctions {
  readonly #trees: ShippedTrees;
  readonly #options: RouterFunctionsOptions;
  readonly #log = getLogger("broker", "functions");
  readonly #listeners = new Set<() => void>();
  #latest: FunctionsManifestEvent | undefined;
  #current: { manifest: FunctionsManifestEvent; registry: FunctionRegistry } | undefined;
  #previous: FunctionsManifestEvent | undefined;
  #syncing: Promise<void> | undefined;
  #closed = false;

  constructor(options: RouterFunctionsOptions) {
    this.#options = options;
    this.#trees = new ShippedTrees(options.cacheDir);
  }

  /** The registry of the tree served now, if any. */
  get registry(): FunctionRegistry | undefined {
    return this.#current?.registry;
  }

  /** Calls `listener` each time another tree is served; returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Takes a manifest the Router announced (in the background). */
  receive(manifest: FunctionsManifestEvent): void {
    if (this.#closed) return;
    this.#latest = manifest;
    this.#syncing ??= this.#sync().finally(() => (this.#syncing = undefined));
  }

  /** Resolves once the newest manifest is served or given up on. */
  async settled(): Promise<void> {
    while (this.#syncing) await this.#syncing;
  }

  /** Stops taking manifests and removes the cache. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.settled();
    await this.#current?.registry.close();
    await this.#trees.close();
  }

  async #sync(): Promise<void> {
    let tries = 0;
    while (!this.#closed && this.#latest && this.#latest.tree !== this.#current?.manifest.tree) {
      const manifest = this.#latest;
      try {
        await this.#take(manifest);
        tries = 0;
      } catch (error) {
        this.#log.warn("Refused the Router's functions (tree {tree}): {error}", {
          tree: manifest.tree.slice(0, 12),
          error: (error as Error).message,
        });
        if (manifest !== this.#latest) continue; // A newer one came meanwhile.
        if (++tries >= TRIES) {
          this.#latest = this.#current?.manifest; // Wait for the next announce.
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  async #take(manifest: FunctionsManifestEvent): Promise<void> {
    const dir = await Deno.realPath(await this.#trees.materialize(manifest, this.#options.fetch));
    const registry = new FunctionRegistry({
      functionsDir: dir,
      describe: this.#options.describe,
      maxPermissions: this.#options.maxPermissions,
      watch: false,
      only: new Set(manifest.functions.map((fn) => fn.name)),
      nextVersion: this.#options.nextVersion,
    });
    await registry.start();
    if (this.#closed) return await registry.close();
    const before = this.#current;
    this.#previous = before?.manifest;
    this.#current = { manifest, registry };
    this.#log.info("Serving the Router's functions (tree {tree}): {names}", {
      tree: manifest.tree.slice(0, 12),
      names: manifest.functions.map((fn) => fn.name).join(", "),
    });
    for (const listener of this.#listeners) listener();
    await before?.registry.close();
    // Jobs still running on the tree before keep its folder; older ones go.
    await this.#trees.prune(this.#previous ? [manifest, this.#previous] : [manifest]);
  }
}
