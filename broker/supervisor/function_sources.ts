/**
 * The functions a broker serves, from its two sources: the Router's folder (shipped,
 * `router_functions.ts`) and its own (`function_registry.ts`). A name in both with
 * other code is a conflict: the Router's copy is served, since it is the cluster's
 * one source of truth (shipping exists to stop brokers drifting apart), and the
 * broker's own copy is not served while the conflict lasts; the broker says so in its
 * log and in what it announces (`/functions` lists it). The same code in both (equal
 * code hashes) is no conflict. One name is never served from two places.
 *
 * @module
 */
import { getLogger } from "../../core/log.ts";
import type { FunctionsManifestEvent } from "../../core/protocol/mod.ts";
import type { FunctionPermissions } from "../../core/types.ts";
import {
  type Describer,
  type FunctionChange,
  type FunctionEntry,
  FunctionRegistry,
} from "./function_registry.ts";
import { RouterFunctions } from "./router_functions.ts";
import type { FileFetcher } from "./shipped_tree.ts";

/** How to build {@linkcode FunctionSources}. */
export interface FunctionSourcesOptions {
  /** The broker's own folder, if it has one. */
  localDir?: string;
  /** The cache of the Router's functions. */
  cacheDir: string;
  describe: Describer;
  /** Fetches a shipped file by hash. */
  fetch: FileFetcher;
  maxPermissions?: FunctionPermissions;
}

/** A function as the broker serves it, with where it came from. */
export interface SourcedEntry extends FunctionEntry {
  readonly source: "router" | "local";
  /** Set when the broker's own folder has other code under this name. */
  readonly conflict?: string;
}

/** What the served table of a name comes from. */
interface Served {
  entry: SourcedEntry;
  registry: FunctionRegistry;
}

/** The merged view of a broker's function sources. */
export class FunctionSources {
  readonly #options: FunctionSourcesOptions;
  readonly #nextVersion: () => number;
  #local: FunctionRegistry | undefined;
  readonly #router: RouterFunctions;
  readonly #log = getLogger("broker", "functions");
  readonly #listeners = new Set<(change: FunctionChange) => void>();
  #served = new Map<string, Served>();

  constructor(options: FunctionSourcesOptions) {
    // One version counter: a name's module from either folder never repeats a version.
    let version = 0;
    const nextVersion = () => ++version;
    this.#options = options;
    this.#nextVersion = nextVersion;
    this.#router = new RouterFunctions({
      cacheDir: options.cacheDir,
      describe: options.describe,
      fetch: options.fetch,
      maxPermissions: options.maxPermissions,
      nextVersion,
    });
  }

  /**
   * Scans and describes the broker's own folder, then follows both sources.
   *
   * @throws {Deno.errors.NotFound} when the broker's own folder does not exist.
   */
  async start(): Promise<void> {
    const localDir = await this.localFolder();
    if (localDir !== undefined) {
      this.#local = new FunctionRegistry({
        functionsDir: localDir,
        describe: this.#options.describe,
        maxPermissions: this.#options.maxPermissions,
        nextVersion: this.#nextVersion,
      });
      await this.#local.start();
    }
    this.#local?.onChange(() => this.#update());
    this.#router.onChange(() => this.#update());
    this.#served = this.#merge();
  }

  /** Takes a manifest the Router announced (fetched and described in the background). */
  ship(manifest: FunctionsManifestEvent): void {
    this.#router.receive(manifest);
  }

  /** Resolves once the newest manifest is served or given up on. */
  shipped(): Promise<void> {
    return this.#router.settled();
  }

  /** Stops watching and removes the cache of shipped trees. */
  async close(): Promise<void> {
    await this.#local?.close();
    await this.#router.close();
  }

  /**
   * The broker's own folder, symlink-free, if it has one; makes the cache folder.
   *
   * @throws {Deno.errors.NotFound} when the broker's own folder does not exist.
   */
  async localFolder(): Promise<string | undefined> {
    await Deno.mkdir(this.#options.cacheDir, { recursive: true });
    const dir = this.#options.localDir;
    return dir === undefined ? undefined : await Deno.realPath(dir);
  }

  /** Every function, by name. */
  list(): SourcedEntry[] {
    return [...this.#served.values()].map(({ entry }) => entry)
      .sort((a, b) => a.name < b.name ? -1 : 1);
  }

  /** What a worker must read to import `name`: its module and its folder's helpers. */
  moduleRead(name: string): string[] {
    return this.#served.get(name)?.registry.moduleRead(name) ?? [];
  }

  /** Entries of the broker's own folder that reach outside it. */
  refused(): string[] {
    return this.#local?.refused() ?? [];
  }

  /** Calls `listener` when what is served changed; returns an unsubscribe function. */
  onChange(listener: (change: FunctionChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #update(): void {
    const before = this.#served;
    const after = this.#merge();
    this.#served = after;
    const change: FunctionChange = { added: [], changed: [], removed: [] };
    for (const [name, { entry }] of after) {
      const old = before.get(name)?.entry;
      if (!old) change.added.push(name);
      else if (old.version !== entry.version || old.conflict !== entry.conflict) {
        change.changed.push(name);
      }
      if (entry.conflict && entry.conflict !== old?.conflict) {
        this.#log.warn("{conflict}", { name, conflict: entry.conflict });
      }
    }
    for (const name of before.keys()) if (!after.has(name)) change.removed.push(name);
    // A refused entry of the own folder changes the hosts' flags even with no change here.
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#log.error("A function change listener failed: {error}", { error: String(error) });
      }
    }
  }

  #merge(): Map<string, Served> {
    const served = new Map<string, Served>();
    const shipped = this.#router.registry;
    for (const entry of this.#local?.list() ?? []) {
      served.set(entry.name, { entry: { ...entry, source: "local" }, registry: this.#local! });
    }
    for (const entry of shipped?.list() ?? []) {
      const own = served.get(entry.name)?.entry;
      const conflict = own && own.codeHash !== entry.codeHash
        ? `Function "${entry.name}" has other code in this broker's folder (${own.path}) than the Router ships: the Router's copy is served`
        : undefined;
      served.set(entry.name, {
        entry: { ...entry, source: "router", ...(conflict ? { conflict } : {}) },
        registry: shipped!,
      });
    }
    return served;
  }
}
