/**
 * The function modules of a folder: `<name>.ts` or `<name>.js`, except names
 * that start with `_` or `.` (helpers, hidden files) and `*_test.ts`. Each module
 * is described by loading it in a sandboxed worker (never in the broker's own
 * isolate, which has the broker's permissions). The folder is watched: new,
 * changed and removed modules take effect without a restart.
 *
 * @module
 */
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { getLogger } from "../../core/log.ts";
import { FolderWatch } from "../../core/folder_watch.ts";
import type { ErrorData, FunctionConfig, FunctionPermissions } from "../../core/types.ts";
import { beyondCap, capMessage } from "./permission_cap.ts";
import { escapeOf } from "./folder_escapes.ts";
import { functionLoadError } from "../messages/errors.ts";
import type { DescribeResult } from "../messages/sandbox.ts";
import { codeHash, fileLines } from "./code_hash.ts";

/** A function module as the registry knows it. */
export interface FunctionEntry {
  /** The module's base name. */
  readonly name: string;
  /** Its absolute path. */
  readonly path: string;
  /** Its folder: relative paths in its config are relative to it. */
  readonly dir: string;
  /** SHA-256 of the module and its folder's helpers (see `code_hash.ts`). */
  readonly codeHash: string;
  /** Its `file:` URL, with a `?v=` version so a changed file is re-read. */
  readonly url: string;
  /** Bumped each time the module (or a helper) changes. */
  readonly version: number;
  /** Its validated `config` export; empty when it failed to load. */
  readonly config: FunctionConfig;
  /** Why it cannot run, when it cannot. */
  readonly error?: ErrorData;
}

/** Names of the functions that came, changed or went in one rescan. */
export interface FunctionChange {
  added: string[];
  changed: string[];
  removed: string[];
}

/** Loads a module in a sandbox that may only read `read`, and describes it. */
export type Describer = (fn: string, url: string, read: string[]) => Promise<DescribeResult>;

/** How to build a {@linkcode FunctionRegistry}. */
export interface FunctionRegistryOptions {
  /** Absolute, symlink-free path of the functions folder. */
  functionsDir: string;
  describe: Describer;
  /** Quiet time after a file event before rescanning, ms. Default 100. */
  debounceMs?: number;
  /** The most a function may ask for (see `permission_cap.ts`); no cap when left out. */
  maxPermissions?: FunctionPermissions;
  /** Watch the folder for changes. Default true (false: a folder that never changes). */
  watch?: boolean;
  /** Only these modules are functions; default: every module of the folder. */
  only?: ReadonlySet<string>;
  /**
   * Gives each loaded module its version. Registries of one broker share one, so that
   * two modules of one name from two folders never have the same version. Default: a
   * counter of this registry's own.
   */
  nextVersion?: () => number;
}

interface Found {
  path: string;
  stamp: string;
  duplicate?: string;
}

/** Scans, describes and watches a folder of function modules. */
export class FunctionRegistry {
  readonly #dir: string;
  readonly #describe: Describer;
  readonly #cap: FunctionPermissions | undefined;
  readonly #watch: boolean;
  readonly #only: ReadonlySet<string> | undefined;
  readonly #nextVersion: () => number;
  readonly #log = getLogger("broker", "functions");
  readonly #entries = new Map<string, FunctionEntry & { stamp: string }>();
  readonly #listeners = new Set<(change: FunctionChange) => void>();
  #helpers: string[] = [];
  /** {@linkcode fileLines} of the helpers, for the code hashes. */
  #helperLines: string[] = [];
  /** Entries that reach outside the folder (see `folder_escapes.ts`), with why. */
  #refused = new Map<string, string>();
  readonly #folder: FolderWatch;

  constructor(options: FunctionRegistryOptions) {
    this.#dir = options.functionsDir;
    this.#describe = options.describe;
    this.#cap = options.maxPermissions;
    this.#watch = options.watch ?? true;
    this.#only = options.only;
    let version = 0;
    this.#nextVersion = options.nextVersion ?? (() => ++version);
    this.#folder = new FolderWatch(
      this.#dir,
      options.debounceMs ?? 100,
      (paths) => this.#scan(paths, true),
      this.#log,
    );
  }

  /** The folder. */
  get dir(): string {
    return this.#dir;
  }

  /** Scans and describes every module, then watches the folder. @throws when the folder cannot be read. */
  async start(): Promise<void> {
    await this.#scan(new Set(), false);
    if (this.#watch) this.#folder.start();
  }

  /** The function called `name`. */
  get(name: string): FunctionEntry | undefined {
    return this.#entries.get(name);
  }

  /** Every function, by name. */
  list(): FunctionEntry[] {
    return [...this.#entries.values()].sort((a, b) => a.name < b.name ? -1 : 1);
  }

  /** What a worker must read to import `name`: the module and the folder's helpers. */
  moduleRead(name: string): string[] {
    const entry = this.#entries.get(name);
    return entry ? [entry.path, ...this.#helpers] : [];
  }

  /** Entries of the folder that reach outside it: hosts may not read them. Sorted. */
  refused(): string[] {
    return [...this.#refused.keys()].sort();
  }

  /** Calls `listener` after each rescan that changed something; returns an unsubscribe function. */
  onChange(listener: (change: FunctionChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops watching; waits for a rescan in progress. */
  close(): Promise<void> {
    return this.#folder.close();
  }

  async #scan(touched: Set<string>, emit: boolean): Promise<void> {
    const refusedBefore = this.refused().join("\n");
    const { modules, helpers } = await this.#list();
    const refusedChanged = this.refused().join("\n") !== refusedBefore;
    const helperNames = new Set(
      [...helpers, ...this.#helpers].map((path) => relative(this.#dir, path)),
    );
    // A helper (or a subfolder) changed: any module may import it.
    const all = helpers.join("\n") !== this.#helpers.join("\n") || [...touched].some((path) => {
      const first = relative(this.#dir, path).split(sep)[0] ?? "";
      return first.startsWith("_") || helperNames.has(first);
    });
    this.#helpers = helpers;
    this.#helperLines = await fileLines(this.#dir, helpers);
    const touchedFiles = new Set([...touched].map((path) => relative(this.#dir, path)));
    const change: FunctionChange = { added: [], changed: [], removed: [] };
    for (const [name, found] of modules) {
      const previous = this.#entries.get(name);
      const fresh = !previous || previous.path !== found.path || previous.stamp !== found.stamp;
      if (!fresh && !all && !touchedFiles.has(relative(this.#dir, found.path))) continue;
      if (this.#folder.closed) return;
      this.#entries.set(name, await this.#load(name, found));
      (previous ? change.changed : change.added).push(name);
    }
    for (const name of this.#entries.keys()) {
      if (modules.has(name)) continue;
      this.#entries.delete(name);
      change.removed.push(name);
    }
    const changed = change.added.length + change.changed.length + change.removed.length > 0;
    // A new escape changes the hosts' flags even when no module changed.
    if (!emit || (!changed && !refusedChanged)) return;
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#log.error("A function change listener failed: {error}", { error: String(error) });
      }
    }
  }

  async #load(name: string, found: Found): Promise<FunctionEntry & { stamp: string }> {
    const version = this.#nextVersion();
    const url = `${pathToFileURL(found.path).href}?v=${version}`;
    const base = {
      name,
      path: found.path,
      dir: this.#dir,
      codeHash: await codeHash(this.#dir, found.path, this.#helperLines),
      url,
      version,
      stamp: found.stamp,
    };
    if (found.duplicate) {
      const error = functionLoadError(
        `Function "${name}" has two modules: ${found.path} and ${found.duplicate}`,
      );
      return { ...base, config: {}, error };
    }
    const result = await this.#describe(name, url, [found.path, ...this.#helpers]);
    if (!result.ok) {
      this.#log.warn("Function {name} failed to load: {error}", {
        name,
        error: result.error.message,
      });
      const message = `Function "${name}" failed to load: ${result.error.message}`;
      return { ...base, config: {}, error: { ...result.error, message, retryable: false } };
    }
    const { config, problems, hasDefault } = result.description;
    if (problems.length > 0) {
      return {
        ...base,
        config,
        error: functionLoadError(
          `Function "${name}" has an invalid config: ${problems.join("; ")}`,
        ),
      };
    }
    if (!hasDefault) {
      return {
        ...base,
        config,
        error: functionLoadError(`Function "${name}" has no default export function`),
      };
    }
    const over = this.#cap ? beyondCap(config.permissions ?? {}, this.#cap, this.#dir) : [];
    if (over.length > 0) {
      const message = capMessage(name, over, this.#cap!);
      this.#log.warn("Function {name} is refused: {error}", { name, error: message });
      return { ...base, config, error: functionLoadError(message) };
    }
    return { ...base, config };
  }

  async #list(): Promise<{ modules: Map<string, Found>; helpers: string[] }> {
    const modules = new Map<string, Found>();
    const helpers: string[] = [];
    const refused = new Map<string, string>();
    for await (const item of Deno.readDir(this.#dir)) {
      const path = join(this.#dir, item.name);
      // Hidden ones too: a host could still read through them.
      const escape = await escapeOf(this.#dir, path);
      if (escape) {
        refused.set(path, escape);
        continue;
      }
      if (item.name.startsWith(".")) continue;
      if (item.name.startsWith("_") || item.isDirectory) {
        helpers.push(path);
        continue;
      }
      const match = /^(.+)\.(ts|js)$/.exec(item.name);
      if (!match?.[1] || /_test\.(ts|js)$/.test(item.name)) continue;
      if (this.#only && !this.#only.has(match[1])) continue;
      let info: Deno.FileInfo;
      try {
        info = await Deno.stat(path);
      } catch {
        continue; // Removed meanwhile, or a broken link.
      }
      if (!info.isFile) continue;
      const found: Found = { path, stamp: `${info.mtime?.getTime()}:${info.size}` };
      const other = modules.get(match[1]);
      if (other) {
        // Both `x.ts` and `x.js`: an error, reported on `x.ts`.
        const [ts, js] = match[2] === "ts" ? [found, other] : [other, found];
        modules.set(match[1], { ...ts, duplicate: js.path });
      } else {
        modules.set(match[1], found);
      }
    }
    helpers.sort();
    for (const [path, why] of refused) {
      if (this.#refused.get(path) === why) continue;
      this.#log.warn("Skipped {path} in the functions folder: {why}", { path, why });
    }
    this.#refused = refused;
    return { modules, helpers };
  }
}
