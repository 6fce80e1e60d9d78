/**
 * The writing side of a host's black box (see `messages/black_box.ts`): its only
 * write permission besides what its functions and store declare.
 *
 * @module
 */
import { type BlackBoxRecord, encodeBlackBox } from "../messages/black_box.ts";

/**
 * The folder of a box's path (the broker gives a file's full path). Not `node:path`:
 * the first `node:` module a process imports sets up Deno's Node layer, about 2 MB of
 * the host's memory for this one call.
 */
function folderOf(path: string): string {
  const at = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return at > 0 ? path.slice(0, at) : at === 0 ? path.slice(0, 1) : ".";
}

/** An open black box. */
export class BlackBox {
  readonly #file: Deno.FsFile;
  readonly #path: string;
  #closed = false;

  private constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.#path = path;
  }

  /** Opens (and empties) the box at `path`; undefined when it cannot. */
  static open(path: string): BlackBox | undefined {
    try {
      Deno.mkdirSync(folderOf(path), { recursive: true });
      return new BlackBox(Deno.openSync(path, { write: true, create: true, truncate: true }), path);
    } catch {
      return undefined; // No black box: a crash is then put down to no job in particular.
    }
  }

  /** Records the job running now, or none. */
  write(job: BlackBoxRecord | undefined): void {
    if (this.#closed) return;
    const bytes = encodeBlackBox(job);
    try {
      this.#file.seekSync(0, Deno.SeekMode.Start);
      for (let done = 0; done < bytes.length;) done += this.#file.writeSync(bytes.subarray(done));
    } catch {
      // Disk full or the like: the crash is put down to no job in particular.
    }
  }

  /** Removes the box (and its folder, once no other host's is in it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const remove of [() => this.#file.close(), () => Deno.removeSync(this.#path)]) {
      try {
        remove();
      } catch {
        // Gone already.
      }
    }
    try {
      Deno.removeSync(folderOf(this.#path)); // Fails while another host's box is there.
    } catch {
      // Not empty, or gone.
    }
  }
}
