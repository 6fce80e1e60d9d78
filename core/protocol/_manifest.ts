/**
 * Readers of the messages that ship the Router's functions folder: the manifest's
 * files (paths that cannot leave the folder they are written into, hashes, sizes,
 * within `PROTOCOL_LIMITS`) and functions, and a fetched file's content.
 *
 * @module
 */
import type {
  FileContent,
  FunctionsManifestEvent,
  ManifestFile,
  ManifestFunction,
} from "./messages.ts";
import { PROTOCOL_LIMITS } from "./messages.ts";
import { count, FieldError, type Fields, fields, id, inField, list, need } from "./_fields.ts";

const SHA256 = /^[0-9a-f]{64}$/;
/** One part of a path: no `.`/`..`, nothing hidden, no separator, NUL or control character. */
const PART = /^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,254}$/;
/** What a manifest's module file is named: `<name>.ts` or `<name>.js`, at the top. */
const MODULE = /^([^/_.][^/]*)\.(ts|js)$/;

/** A SHA-256 as 64 lowercase hex digits. */
export function sha256(value: unknown): string {
  if (typeof value !== "string" || !SHA256.test(value)) {
    throw new FieldError("a SHA-256 of 64 lowercase hex digits");
  }
  return value;
}

/** A relative path inside the folder, `/` between parts (see {@linkcode ManifestFile.path}). */
export function shippedPath(value: unknown): string {
  if (typeof value !== "string" || value.length === 0) throw new FieldError("a non-empty string");
  if (value.length > PROTOCOL_LIMITS.maxPathLength) {
    throw new FieldError(`a path of at most ${PROTOCOL_LIMITS.maxPathLength} characters`);
  }
  if (!value.split("/").every((part) => PART.test(part))) {
    throw new FieldError(
      "a relative path whose parts hold only letters, digits and . _ - + @ (no hidden part, no . or ..)",
    );
  }
  return value;
}

function manifestFile(value: unknown): ManifestFile {
  const o = fields(value);
  const size = need(o, "size", count);
  if (size > PROTOCOL_LIMITS.maxShippedFileBytes) {
    throw inField(
      new FieldError(`at most ${PROTOCOL_LIMITS.maxShippedFileBytes} bytes`),
      "size",
    );
  }
  return { path: need(o, "path", shippedPath), sha256: need(o, "sha256", sha256), size };
}

/** The files: each path once, no file inside another, sizes within the total cap. */
function manifestFiles(value: unknown): ManifestFile[] {
  const files = list(value, manifestFile, PROTOCOL_LIMITS.maxShippedFiles);
  const paths = new Set<string>();
  let total = 0;
  for (const [at, file] of files.entries()) {
    total += file.size;
    if (paths.has(file.path)) {
      throw inField(inField(new FieldError("a path listed once"), "path"), at);
    }
    paths.add(file.path);
  }
  if (total > PROTOCOL_LIMITS.maxShippedBytes) {
    throw new FieldError(`files of at most ${PROTOCOL_LIMITS.maxShippedBytes} bytes together`);
  }
  for (const [at, file] of files.entries()) {
    const parts = file.path.split("/");
    for (let end = 1; end < parts.length; end++) {
      if (paths.has(parts.slice(0, end).join("/"))) {
        throw inField(inField(new FieldError("a path below no other file"), "path"), at);
      }
    }
  }
  return files;
}

function manifestFunction(value: unknown): ManifestFunction {
  const o = fields(value);
  const name = need(o, "name", id);
  const entry = need(o, "entry", shippedPath);
  const match = MODULE.exec(entry);
  if (!match || match[1] !== name) {
    throw inField(new FieldError(`"${name}.ts" or "${name}.js"`), "entry");
  }
  return { name, entry };
}

/** Reads a `functions-manifest` event. */
export function functionsManifest(m: Fields): FunctionsManifestEvent {
  const files = need(m, "files", manifestFiles);
  const functions = need(
    m,
    "functions",
    (value) => list(value, manifestFunction, PROTOCOL_LIMITS.maxFunctions),
  );
  const paths = new Set(files.map((file) => file.path));
  const names = new Set<string>();
  for (const [at, fn] of functions.entries()) {
    if (!paths.has(fn.entry)) {
      throw inField(inField(inField(new FieldError("one of the files"), "entry"), at), "functions");
    }
    if (names.has(fn.name)) {
      throw inField(inField(new FieldError("a name listed once"), at), "functions");
    }
    names.add(fn.name);
  }
  return { type: "functions-manifest", tree: need(m, "tree", sha256), files, functions };
}

/** The most base64 characters of one shipped file. */
const MAX_BASE64 = Math.ceil(PROTOCOL_LIMITS.maxShippedFileBytes / 3) * 4;

/**
 * Reads the result of a `fetch-file` reply: the hash and base64 text, within the
 * file cap. Whether the bytes match the hash is the caller's check.
 *
 * @throws {FieldError} naming the bad field.
 */
export function fileContent(value: unknown): FileContent {
  const o = fields(value);
  const data = o.data;
  if (
    typeof data !== "string" || data.length > MAX_BASE64 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)
  ) {
    throw inField(
      new FieldError(`base64 of at most ${PROTOCOL_LIMITS.maxShippedFileBytes} bytes`),
      "data",
    );
  }
  return { sha256: need(o, "sha256", sha256), data };
}
