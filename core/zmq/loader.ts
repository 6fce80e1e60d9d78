/**
 * Finds and loads libzmq: from `PIPELININ_LIBZMQ`, from the system, or from the
 * prebuilt addons inside the `npm:zeromq` package (which link libzmq statically).
 *
 * @module
 */
import { SYMBOLS, type ZmqSymbols } from "./_ffi.ts";

/** A loaded libzmq and what it can do. */
export interface Libzmq {
  /** The functions of the library. */
  readonly symbols: ZmqSymbols;
  /** Where it was loaded from. */
  readonly path: string;
  /** How it was found. */
  readonly source: "env" | "system" | "npm";
  /** `major.minor.patch`. */
  readonly version: string;
  /** Whether the library was built with CURVE security. */
  readonly curve: boolean;
  /** Whether the library was built with draft APIs. */
  readonly draft: boolean;
}

/** Thrown when no candidate library loads; lists every path tried and why. */
export class LibzmqNotFoundError extends Error {
  override name = "LibzmqNotFoundError";
  /** Each candidate and the error it gave. */
  readonly tried: ReadonlyArray<{ path: string; error: string }>;
  constructor(tried: Array<{ path: string; error: string }>) {
    super(
      "Could not load libzmq. Fix it in one of three ways: " +
        "set PIPELININ_LIBZMQ to the path of a libzmq shared library; " +
        "install the system library (Debian/Ubuntu: `apt-get install libzmq5`, macOS: `brew install zeromq`); " +
        "or run `deno install` so the npm:zeromq package and its prebuilt libzmq are present. Tried:\n" +
        tried.map((t) => `  ${t.path}: ${t.error}`).join("\n"),
    );
    this.tried = tried;
  }
}

type Candidate = { path: string; source: Libzmq["source"] };

function systemNames(): string[] {
  switch (Deno.build.os) {
    case "darwin":
      return [
        "libzmq.5.dylib",
        "/opt/homebrew/lib/libzmq.5.dylib",
        "/usr/local/lib/libzmq.5.dylib",
      ];
    case "windows":
      return ["libzmq.dll", "libzmq-v143-mt-4_3_5.dll"];
    default:
      return ["libzmq.so.5", "libzmq.so"];
  }
}

/** Prebuilt addons of npm:zeromq for this OS and CPU, newest ABI tag first. */
function npmCandidates(): string[] {
  let entry: string;
  try {
    entry = import.meta.resolve("zeromq");
  } catch {
    return [];
  }
  if (!entry.startsWith("file:")) return [];
  const libDir = new URL(".", entry);
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  const os = Deno.build.os === "windows" ? "win32" : Deno.build.os;
  const buildDir = new URL(`../build/${os}/${arch}/node/`, libDir);
  const found: string[] = [];
  try {
    for (const dir of Deno.readDirSync(buildDir)) {
      if (dir.isDirectory) found.push(new URL(`${dir.name}/addon.node`, buildDir).pathname);
    }
  } catch {
    return [];
  }
  // Prefer glibc builds, then by descending ABI number inside the name.
  const rank = (p: string) => (p.includes("/musl-") ? 1 : 0);
  const abi = (p: string) => Number(/(\d+)(-Release)?\/addon\.node$/.exec(p)?.[1] ?? 0);
  return found.sort((a, b) => rank(a) - rank(b) || abi(b) - abi(a));
}

function candidates(): Candidate[] {
  const list: Candidate[] = [];
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("PIPELININ_LIBZMQ");
  } catch {
    // No env permission: skip this source.
  }
  if (fromEnv) list.push({ path: fromEnv, source: "env" });
  for (const path of systemNames()) list.push({ path, source: "system" });
  for (const path of npmCandidates()) list.push({ path, source: "npm" });
  return list;
}

function describe(symbols: ZmqSymbols): { version: string; curve: boolean; draft: boolean } {
  const major = new Int32Array(1), minor = new Int32Array(1), patch = new Int32Array(1);
  symbols.zmq_version(major, minor, patch);
  const has = (what: string) => symbols.zmq_has(new TextEncoder().encode(`${what}\0`)) === 1;
  return {
    version: `${major[0]}.${minor[0]}.${patch[0]}`,
    curve: has("curve"),
    draft: has("draft"),
  };
}

let loaded: Libzmq | undefined;

/**
 * Loads libzmq once per process and returns it.
 *
 * @throws {LibzmqNotFoundError} when no candidate loads.
 */
export function loadLibzmq(): Libzmq {
  if (loaded) return loaded;
  const tried: Array<{ path: string; error: string }> = [];
  for (const candidate of candidates()) {
    try {
      const lib = Deno.dlopen(candidate.path, SYMBOLS);
      const info = describe(lib.symbols);
      if (!info.version.startsWith("4.")) {
        lib.close();
        tried.push({ path: candidate.path, error: `version ${info.version} is not 4.x` });
        continue;
      }
      loaded = { symbols: lib.symbols, path: candidate.path, source: candidate.source, ...info };
      return loaded;
    } catch (error) {
      tried.push({
        path: candidate.path,
        error: error instanceof Error ? error.message.split("\n")[0]! : String(error),
      });
    }
  }
  throw new LibzmqNotFoundError(tried);
}

/**
 * The file of the libzmq this process loaded, as an absolute path, so that another
 * process can load the same one and be allowed FFI to that one file only. A system
 * library loaded by its name (`libzmq.so.5`) is looked for where the dynamic loader
 * looks (`LD_LIBRARY_PATH`, then the usual folders). Undefined when not found.
 */
export function libzmqFile(lib: Libzmq): string | undefined {
  if (lib.path.includes("/")) return lib.path;
  let extra: string[] = [];
  try {
    extra = (Deno.env.get("LD_LIBRARY_PATH") ?? "").split(":").filter(Boolean);
  } catch {
    // No env permission.
  }
  const multiarch = `${Deno.build.arch}-linux-gnu`;
  const dirs = [
    ...extra,
    `/usr/local/lib/${multiarch}`,
    "/usr/local/lib",
    `/lib/${multiarch}`,
    `/usr/lib/${multiarch}`,
    "/usr/lib64",
    "/lib64",
    "/usr/lib",
    "/lib",
    "/opt/homebrew/lib",
  ];
  for (const dir of dirs) {
    const path = `${dir}/${lib.path}`;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not there (or not readable).
    }
  }
  return undefined;
}
