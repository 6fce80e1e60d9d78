/**
 * Test and benchmark helper: a real PostgreSQL (Debian's `postgresql`) in a temp
 * folder on a free port, removed with `await using`. PostgreSQL refuses to run as
 * root, so as root the server runs as the `postgres` user (`setpriv` execs it
 * directly: the child's pid is the server's, so signals reach it). Elsewhere it runs
 * as the current user.
 *
 * @module
 */
import { freePort } from "./_ports.ts";

/** Options of {@linkcode TempPostgres.start}. */
export interface TempPostgresOptions {
  /** Keep fsync on (benchmarks); tests turn it off, their data is thrown away. */
  fsync?: boolean;
}

/** A PostgreSQL server of one test: `url` to connect, `stop`/`restart` to hurt it. */
export class TempPostgres implements AsyncDisposable {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  readonly #bin: string;
  readonly #asUser: string[];
  readonly #options: TempPostgresOptions;
  #server: Deno.ChildProcess | undefined;
  #log = "";

  private constructor(
    dir: string,
    port: number,
    bin: string,
    asUser: string[],
    options: TempPostgresOptions,
  ) {
    this.dir = dir;
    this.port = port;
    this.url = `postgres://pipelinin@127.0.0.1:${port}/postgres`;
    this.#bin = bin;
    this.#asUser = asUser;
    this.#options = options;
  }

  /** Makes a cluster with `initdb` and starts its server; removed on failure. */
  static async start(options: TempPostgresOptions = {}): Promise<TempPostgres> {
    const bin = postgresBin();
    const dir = await Deno.makeTempDir({ prefix: "pipelinin-pg-" });
    const asUser = Deno.uid() === 0 ? await postgresUser(dir) : [];
    const pg = new TempPostgres(dir, freePort(), bin, asUser, options);
    try {
      await pg.#run("initdb", [
        "-D",
        `${dir}/data`,
        "-U",
        "pipelinin",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync",
      ]);
      await pg.startServer();
      return pg;
    } catch (error) {
      await pg[Symbol.asyncDispose]();
      throw error;
    }
  }

  /** The server's pid (its backends are its children), while it runs. */
  get pid(): number | undefined {
    return this.#server?.pid;
  }

  /** The version of the server binaries, e.g. `15.18`. */
  static async version(): Promise<string> {
    const out = await new Deno.Command(`${postgresBin()}/postgres`, { args: ["--version"] })
      .output();
    return /\d+\.\d+/.exec(new TextDecoder().decode(out.stdout))?.[0] ?? "?";
  }

  /** What the server printed (for failure messages). */
  get log(): string {
    return this.#log;
  }

  /** Starts the server (again) on the same folder and port; resolves once it accepts. */
  async startServer(): Promise<void> {
    if (this.#server) throw new Error("PostgreSQL is running already");
    const args = [
      "-D",
      `${this.dir}/data`,
      "-p",
      String(this.port),
      "-k",
      this.dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `fsync=${this.#options.fsync ? "on" : "off"}`,
      "-c",
      "max_connections=50",
    ];
    const server = this.#command("postgres", args).spawn();
    this.#server = server;
    void this.#collect(server);
    const deadline = Date.now() + 30_000;
    while (true) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        conn.close();
        // Accepting TCP comes a moment before accepting sessions: ask pg_isready.
        const ready = await this.#command("pg_isready", [
          "-h",
          "127.0.0.1",
          "-p",
          String(this.port),
        ])
          .output();
        if (ready.success) return;
      } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not start:\n${this.#log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Stops the server: `fast` (SIGINT: sessions are cut, a clean shutdown) or
   * `immediate` (SIGQUIT: a crash, recovered from the WAL at the next start).
   */
  async stopServer(mode: "fast" | "immediate" = "fast"): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    try {
      server.kill(mode === "fast" ? "SIGINT" : "SIGQUIT");
    } catch { /* gone */ }
    await server.status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopServer("fast");
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  #command(program: string, args: string[]): Deno.Command {
    const path = `${this.#bin}/${program}`;
    return new Deno.Command(this.#asUser.length ? this.#asUser[0]! : path, {
      args: this.#asUser.length ? [...this.#asUser.slice(1), path, ...args] : args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
    });
  }

  async #run(program: string, args: string[]): Promise<void> {
    const out = await this.#command(program, args).output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
      throw new Error(`${program} failed: ${text}`);
    }
  }

  async #collect(server: Deno.ChildProcess): Promise<void> {
    const read = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this.#log = (this.#log + chunk).slice(-20_000);
      }
    };
    await Promise.all([read(server.stdout), read(server.stderr)]);
  }
}

/** Debian's server binaries (the newest version installed), or those on PATH. */
function postgresBin(): string {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((entry) => entry.name)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return `/usr/lib/postgresql/${versions[0]}/bin`;
  } catch { /* not Debian */ }
  const which = new Deno.Command("sh", { args: ["-c", "dirname $(command -v postgres)"] })
    .outputSync();
  const dir = new TextDecoder().decode(which.stdout).trim();
  if (!which.success || !dir) {
    throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  }
  return dir;
}

/** As root: the folder handed to `postgres`, and the `setpriv` prefix that runs as it. */
async function postgresUser(dir: string): Promise<string[]> {
  const id = (flag: string) => {
    const out = new Deno.Command("id", { args: [flag, "postgres"] }).outputSync();
    if (!out.success) throw new Error("No postgres user (apt-get install postgresql makes it)");
    return Number(new TextDecoder().decode(out.stdout).trim());
  };
  const uid = id("-u");
  const gid = id("-g");
  await Deno.chown(dir, uid, gid);
  return ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "--"];
}
