/**
 * Watches a folder of function modules: the paths that changed are collected, and
 * once the folder has been quiet for `debounceMs` they are rescanned, one rescan at a
 * time, so that an editor's burst of writes costs one rescan. Used by a broker for
 * its own folder and by the Router for the folder it ships.
 *
 * @module
 */
import type { Logger } from "./log.ts";

/** Rescans after changes; see the module doc. */
export class FolderWatch {
  readonly #dir: string;
  readonly #debounceMs: number;
  readonly #rescan: (paths: Set<string>) => Promise<void>;
  readonly #log: Logger;
  #watcher: Deno.FsWatcher | undefined;
  #watching: Promise<void> = Promise.resolve();
  #scanning: Promise<void> = Promise.resolve();
  #dirty = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** `rescan` gets the paths changed since the last one (empty for `rescanNow`). */
  constructor(
    dir: string,
    debounceMs: number,
    rescan: (paths: Set<string>) => Promise<void>,
    log: Logger,
  ) {
    this.#dir = dir;
    this.#debounceMs = debounceMs;
    this.#rescan = rescan;
    this.#log = log;
  }

  /** Whether it was closed: a rescan under way may stop early. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Starts watching. @throws when the folder cannot be watched. */
  start(): void {
    const watcher = Deno.watchFs(this.#dir, { recursive: true });
    this.#watcher = watcher;
    this.#watching = (async () => {
      try {
        for await (const event of watcher) {
          if (event.kind === "access") continue;
          for (const path of event.paths) this.#dirty.add(path);
          clearTimeout(this.#timer);
          this.#timer = setTimeout(() => this.rescanNow(), this.#debounceMs);
        }
      } catch (error) {
        this.#log.error("Stopped watching {dir}: {error}", {
          dir: this.#dir,
          error: String(error),
        });
      }
    })();
  }

  /** Queues a rescan of what changed so far, after the one under way. */
  rescanNow(): void {
    this.#scanning = this.#scanning.then(async () => {
      if (this.#closed) return;
      const paths = this.#dirty;
      this.#dirty = new Set();
      await this.#rescan(paths);
    }).catch((error) => {
      this.#log.warn("Cannot rescan {dir}: {error}", { dir: this.#dir, error: String(error) });
    });
  }

  /** Resolves once the rescans queued so far are done. */
  settled(): Promise<void> {
    return this.#scanning;
  }

  /** Stops watching; waits for a rescan under way. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watcher?.close();
    await this.#watching;
    await this.#scanning;
  }
}
