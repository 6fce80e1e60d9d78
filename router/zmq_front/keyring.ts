/**
 * The keys a Router on CURVE lets in, and what each may do: its own peers' keys
 * (those it handed out, in memory) and those of its allow-list file, read again
 * whenever the file changes. Each key gets a short ZAP User-Id, the same for the
 * Router's whole life, which libzmq then attaches to every message of its
 * connections: checking a message is one map lookup of that id.
 *
 * @module
 */
import { type AllowEntry, parseAllowList, type PeerRole } from "./allow_list.ts";

/** A key let in: the User-Id its connections carry, and its role. */
export interface Admitted {
  readonly userId: string;
  readonly role: PeerRole;
}

/** Allowed keys by User-Id; reloads its file. */
export class Keyring {
  readonly #own: readonly AllowEntry[];
  readonly #file: string | undefined;
  #text: string | undefined;
  /** User-Ids by key, never reused: a key removed and added again gets its own back. */
  readonly #ids = new Map<string, string>();
  /** The role of each User-Id allowed now. */
  #roles = new Map<string, PeerRole>();

  /**
   * @param own Keys the Router handed out itself (its in-process daemons' hosts).
   * @param file The allow-list file, if any.
   * @throws {SyntaxError} naming the line, when the file is malformed, or an error
   *   naming the file when it cannot be read.
   */
  constructor(own: readonly AllowEntry[], file?: string) {
    this.#own = own;
    this.#file = file;
    const text = file === undefined ? "" : this.#read(file);
    this.#apply(text);
  }

  /** The allow-list file, if any. */
  get file(): string | undefined {
    return this.#file;
  }

  /** How many keys are allowed now. */
  get size(): number {
    return this.#roles.size;
  }

  /** The User-Id and role of a key (Z85), or undefined when it is not allowed. */
  admit(key: string): Admitted | undefined {
    const userId = this.#ids.get(key);
    const role = userId === undefined ? undefined : this.#roles.get(userId);
    return role === undefined ? undefined : { userId: userId!, role };
  }

  /** The role of a connection's User-Id now; undefined once its key was removed. */
  role(userId: string): PeerRole | undefined {
    return this.#roles.get(userId);
  }

  /**
   * Reads the file again; when it changed, applies it and returns the User-Ids no
   * longer allowed (empty when none went). Undefined when nothing changed.
   *
   * @throws {SyntaxError} (or a read error) when the file cannot be applied: the keys
   *   allowed stay as they were.
   */
  reload(): string[] | undefined {
    if (this.#file === undefined) return undefined;
    const text = this.#read(this.#file);
    if (text === this.#text) return undefined;
    const before = this.#roles;
    this.#apply(text);
    return [...before.keys()].filter((userId) => !this.#roles.has(userId));
  }

  #read(file: string): string {
    try {
      return Deno.readTextFileSync(file);
    } catch (error) {
      throw new Error(`Cannot read allow-list "${file}": ${(error as Error).message}`);
    }
  }

  #apply(text: string): void {
    const entries = [...parseAllowList(text, this.#file ?? ""), ...this.#own];
    const roles = new Map<string, PeerRole>();
    for (const { key, role } of entries) {
      let userId = this.#ids.get(key);
      if (userId === undefined) {
        userId = `k${(this.#ids.size + 1).toString(36)}`;
        this.#ids.set(key, userId);
      }
      roles.set(userId, role); // The Router's own come last: theirs is the role that holds.
    }
    this.#roles = roles;
    this.#text = text;
  }
}
