/**
 * The functions the Router ships to brokers, as the `functions-manifest` event
 * carries them, beside the other messages of `messages.ts`.
 *
 * @module
 */

/** One file of a {@linkcode FunctionsManifestEvent}. */
export interface ManifestFile {
  /**
   * Relative to the folder, `/` between parts; each part starts with a letter, a digit,
   * `_`, `-`, `+` or `@` and holds only those and `.` (no `..`, no hidden part).
   */
  path: string;
  /** SHA-256 of its bytes, 64 lowercase hex digits. */
  sha256: string;
  size: number;
}

/** A function of a {@linkcode FunctionsManifestEvent}: its module, a top-level file. */
export interface ManifestFunction {
  name: string;
  /** `<name>.ts` or `<name>.js`, one of the manifest's files. */
  entry: string;
}

/**
 * The functions the Router ships (to a broker, when it joins and whenever the
 * Router's functions folder changes): every file of the folder by hash, so a module
 * and the files it imports arrive together. `tree` is the SHA-256 of the file list
 * (see `treeHash`); a broker fetches what it lacks with `fetch-file`.
 */
export interface FunctionsManifestEvent {
  type: "functions-manifest";
  tree: string;
  files: ManifestFile[];
  functions: ManifestFunction[];
}
