/**
 * Shared helpers for the transport tests: bounded waits (a hung test fails with a
 * message instead of hanging), a context that is always closed, and child processes
 * that are always killed.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { Context } from "../core/zmq/mod.ts";

/** Frames as text, for readable assertions. */
export function text(frames: Uint8Array[]): string[] {
  const decoder = new TextDecoder();
  return frames.map((frame) => decoder.decode(frame));
}

/** Frames as lower-case hex, so binary and empty frames compare exactly (and print clearly). */
export function hex(frames: ReadonlyArray<Uint8Array>): string[] {
  return frames.map((frame) => Array.from(frame, (b) => b.toString(16).padStart(2, "0")).join(""));
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Settles as `promise` does, or rejects after `ms` with an error naming `what`.
 * The timer is always cleared, so Deno's op sanitizer stays quiet.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` with a fresh context that is closed afterwards, whatever happens. */
export async function withContext(fn: (ctx: Context) => Promise<void>): Promise<void> {
  const ctx = new Context();
  try {
    await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/**
 * Calls `attempt` every `everyMs` until `done` resolves, then returns its value. For
 * PUB/SUB, whose subscriptions reach the publisher some time after `connect` (the
 * "slow joiner"): publish until the subscriber has something.
 */
export async function repeatUntil<T>(
  done: Promise<T>,
  attempt: () => Promise<unknown>,
  what: string,
  { everyMs = 10, timeoutMs = 10_000 } = {},
): Promise<T> {
  let settled = false;
  const watched = done.finally(() => (settled = true));
  watched.catch(() => {}); // Reported below, by withTimeout.
  const deadline = Date.now() + timeoutMs;
  while (!settled && Date.now() < deadline) {
    await attempt();
    await delay(everyMs);
  }
  return withTimeout(watched, Math.max(0, deadline - Date.now()) + 100, what);
}

/**
 * Writes `<dir>/pipelinin.db` as the Router's store was before pipelines kept their
 * jobs inline (no `jobs` column), then runs `rows` (SQL inserts) on it.
 */
export function writeOldStore(dir: string, rows: string): void {
  const db = new DatabaseSync(`${dir}/pipelinin.db`);
  try {
    db.exec(`
      CREATE TABLE pipelines (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL,
        spec TEXT NOT NULL, document TEXT NOT NULL, error TEXT, created_at INTEGER NOT NULL,
        started_at INTEGER, finished_at INTEGER, idempotency_key TEXT UNIQUE);
      CREATE TABLE jobs (pipeline_id TEXT NOT NULL, job_id TEXT NOT NULL,
        position INTEGER NOT NULL DEFAULT 0, record TEXT NOT NULL,
        PRIMARY KEY (pipeline_id, job_id)) WITHOUT ROWID;
      ${rows}
    `);
  } finally {
    db.close();
  }
}

/** Waits until `done()` holds, looking every 5 ms; fails after `timeoutMs`. */
export async function until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await delay(5);
  }
}

/** A child process whose stdout is read as lines; killed and reaped on dispose. */
export class ChildProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #buffered: string[] = [];
  #rest = "";
  readonly #stderr: Promise<string>;

  constructor(command: string, args: string[]) {
    this.#child = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#stderr = new Response(this.#child.stderr).text().catch(() => "");
  }

  /** The next line the child printed; rejects after `ms` or when stdout ends first. */
  nextLine(ms = 10_000): Promise<string> {
    return withTimeout(this.#nextLine(), ms, "a line from the child process");
  }

  async #nextLine(): Promise<string> {
    while (this.#buffered.length === 0) {
      const { value, done } = await this.#lines.read();
      if (done) {
        const status = await this.#child.status;
        throw new Error(
          `The child process ended (code ${status.code}) before printing a line; stderr:\n${await this
            .#stderr}`,
        );
      }
      const parts = (this.#rest + value).split("\n");
      this.#rest = parts.pop()!;
      this.#buffered.push(...parts.filter((line) => line.trim() !== ""));
    }
    return this.#buffered.shift()!;
  }

  /** The next stdout line parsed as JSON. */
  async nextJson<T = Record<string, unknown>>(ms?: number): Promise<T> {
    return JSON.parse(await this.nextLine(ms)) as T;
  }

  /** Writes one line to the child's stdin. */
  async say(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${line}\n`));
  }

  /** Waits for the child to exit; rejects after `ms`. */
  status(ms = 10_000): Promise<Deno.CommandStatus> {
    return withTimeout(this.#child.status, ms, "the child process to exit");
  }

  /** Kills the child (if still running) and releases its pipes. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // It has already exited.
    }
    await this.#stdin.close().catch(() => {});
    await this.#lines.cancel().catch(() => {});
    await this.#child.status;
    await this.#stderr;
  }
}

/**
 * Removes a store's folder, again while it is not empty: a store just closed may
 * still have its checkpoint worker's files appear in it for a moment (the worker is
 * terminated, not joined).
 */
export async function removeStoreDir(dir: string): Promise<void> {
  for (let tries = 0;; tries++) {
    try {
      return await Deno.remove(dir, { recursive: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      if (tries >= 20) throw error;
      await delay(50);
    }
  }
}
