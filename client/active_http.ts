/**
 * Finds the active Router among the HTTP bases of a cluster's Routers and sticks to
 * it. A Router answers `GET /health` with 200 when it is active (`"role": "active"`,
 * or no role from a Router that runs alone) and 503 `{"role": "standby"}` when it is
 * a standby. On a connection error, or a 503 from a standby, the client asks the
 * others and moves to the one that is active now. Only for idempotent requests: the
 * callers here only read.
 *
 * @module
 */

/** No Router of the list answered as active in time. */
export class NoActiveRouterError extends Error {
  override name = "NoActiveRouterError";
  /** The HTTP bases asked. */
  readonly urls: readonly string[];
  constructor(urls: readonly string[], waitedMs: number) {
    super(`No Router among "${urls.join(", ")}" answered as active within ${waitedMs} ms`);
    this.urls = urls;
  }
}

/** How long to look for an active Router before giving up, ms. */
const FIND_TIMEOUT_MS = 10_000;
/** How long one `/health` may take, ms. */
const HEALTH_TIMEOUT_MS = 2000;
/** After a round of the list found no active Router, wait this long, ms. */
const ROUND_PAUSE_MS = 200;
/** The most of a `/health` body read: it is a few fields. */
const MAX_HEALTH_BYTES = 4096;

/** The role a `/health` answer gives. */
type Role = "active" | "standby" | "unknown";

/**
 * Parses and checks HTTP base URLs: one, a comma list, or a list.
 *
 * @throws {TypeError} naming the bad one.
 */
export function httpBases(value: string | readonly string[]): string[] {
  const given = typeof value === "string" ? value.split(",") : [...value];
  if (given.length === 0) throw new TypeError("No Router URL given");
  return given.map((raw) => {
    const url = raw.trim();
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`Bad Router URL "${url}": expected http(s)://host:port`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TypeError(`Bad Router URL "${url}": expected http(s)://host:port`);
    }
    return url.replace(/\/$/, "");
  });
}

/** The active Router of a list, for HTTP requests. */
export class ActiveHttpRouter {
  readonly #bases: readonly string[];
  /** Where to start looking: the last one found active. */
  #at = 0;
  /** The base in use, once one answered as active. */
  #chosen: string | undefined;

  /** @throws {TypeError} for a bad URL. */
  constructor(urls: string | readonly string[]) {
    this.#bases = httpBases(urls);
  }

  /** The base in use now, if one was found. */
  get current(): string | undefined {
    return this.#chosen;
  }

  /**
   * `fetch(base + path)` on the active Router. A connection error or a standby's 503
   * makes it look for the active one again and ask there.
   *
   * @throws {NoActiveRouterError} when none answers as active within 10 s.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const started = Date.now();
    while (true) {
      const base = this.#chosen ?? await this.#find(started, init.signal ?? undefined);
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, init);
      } catch (error) {
        // A Router that answers its /health but not this: give up once the look would.
        if (init.signal?.aborted || Date.now() - started >= FIND_TIMEOUT_MS) throw error;
        this.#drop(base);
        continue;
      }
      if (response.status === 503 && await roleOf(response.clone()) === "standby") {
        await response.body?.cancel();
        this.#drop(base);
        continue;
      }
      return response;
    }
  }

  /** Forgets `base` as the active one; the next look starts after it. */
  #drop(base: string): void {
    if (this.#chosen !== base) return;
    this.#chosen = undefined;
    this.#at = (this.#bases.indexOf(base) + 1) % this.#bases.length;
  }

  /** Asks each Router's `/health` in turn, from the last one known active, until one is. */
  async #find(started: number, signal: AbortSignal | undefined): Promise<string> {
    while (true) {
      for (let step = 0; step < this.#bases.length; step++) {
        signal?.throwIfAborted();
        const at = (this.#at + step) % this.#bases.length;
        const base = this.#bases[at]!;
        if (await health(base) === "active") {
          this.#at = at;
          this.#chosen = base;
          return base;
        }
      }
      const waited = Date.now() - started;
      if (waited >= FIND_TIMEOUT_MS) throw new NoActiveRouterError(this.#bases, waited);
      await new Promise((resolve) => setTimeout(resolve, ROUND_PAUSE_MS));
    }
  }
}

/** What `base`'s `/health` says: active, standby, or unknown (down, or not a Router). */
async function health(base: string): Promise<Role> {
  try {
    const response = await fetch(`${base}/health`, {
      signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
    });
    const role = await roleOf(response);
    // A Router that runs alone gives no role: its 200 is the answer of the active one.
    if (response.status === 200) return role === "standby" ? "unknown" : "active";
    return role === "standby" ? "standby" : "unknown";
  } catch {
    return "unknown";
  }
}

/** The `role` a `/health` body names, read within a cap; unknown for anything else. */
async function roleOf(response: Response): Promise<Role> {
  const text = await readCapped(response, MAX_HEALTH_BYTES);
  if (text === undefined) return "unknown";
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "unknown";
  }
  if (typeof body !== "object" || body === null || !("role" in body)) return "unknown";
  const role = body.role;
  return role === "active" || role === "standby" ? role : "unknown";
}

/** The body as text, or undefined when it is longer than `max` bytes. */
async function readCapped(response: Response, max: number): Promise<string | undefined> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) return undefined;
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}
