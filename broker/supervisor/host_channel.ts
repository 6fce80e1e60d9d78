/**
 * The broker's end of the channel to one worker host: a unix socket in a folder of
 * the broker's, named (with a one-time token) in the host's first stdin frame. The
 * host's Web Workers share its fds 0, 1 and 2, so none of those carries frames.
 *
 * @module
 */
import { getLogger } from "../../core/log.ts";
import { readFirstFrame } from "../messages/frames.ts";

const log = getLogger("broker", "host");

/** The host's connection, and the bytes read after its `hello`. */
export interface HostConnection {
  conn: Deno.UnixConn;
  rest: Uint8Array;
}

/** A socket waiting for one host, removed once that host connected. */
export class HostChannel {
  /** Its path. */
  readonly socket: string;
  /** What the host must say first. */
  readonly token: string = crypto.randomUUID();
  readonly #listener: Deno.UnixListener;
  readonly #timeoutMs: number;
  /** A connection that has not said its first frame yet. */
  #pending: Deno.UnixConn | undefined;

  /** Listens in `dir` (made if need be) for up to `timeoutMs` once `accept()` is called. */
  constructor(dir: string, timeoutMs: number) {
    this.socket = `${dir}/${crypto.randomUUID().slice(0, 12)}.sock`;
    this.#timeoutMs = timeoutMs;
    Deno.mkdirSync(dir, { recursive: true });
    this.#listener = Deno.listen({ transport: "unix", path: this.socket });
  }

  /** Stops waiting (the host died, say): `accept()` resolves with undefined. Never throws. */
  cancel(): void {
    for (const closable of [this.#listener, this.#pending]) {
      try {
        closable?.close();
      } catch {
        // Closed already.
      }
    }
  }

  /**
   * Takes the host's connection: the first one that says the token. The socket is
   * removed at once, before any user code runs in the host, so nothing else connects.
   */
  async accept(): Promise<HostConnection | undefined> {
    const { socket, token } = this;
    const listener = this.#listener;
    // A peer that connects and says nothing is cut off with the rest.
    const timer = setTimeout(() => this.cancel(), this.#timeoutMs);
    try {
      while (true) {
        let conn: Deno.UnixConn;
        try {
          conn = await listener.accept();
        } catch {
          return undefined; // Timed out, or the host died first.
        }
        this.#pending = conn;
        let hello: unknown;
        let rest: Uint8Array = new Uint8Array(0);
        try {
          ({ value: hello, rest } = await readFirstFrame(conn.readable));
        } catch {
          hello = undefined;
        }
        const said = typeof hello === "object" && hello !== null
          ? hello as Record<string, unknown>
          : {};
        this.#pending = undefined;
        if (said.type === "hello" && said.token === token) return { conn, rest };
        log.warn("A connection to worker host socket {socket} had no token: closed", {
          socket,
        });
        try {
          conn.close();
        } catch {
          // Gone already.
        }
      }
    } finally {
      clearTimeout(timer);
      try {
        listener.close();
      } catch {
        // Closed by the timer.
      }
      try {
        Deno.removeSync(socket);
      } catch {
        // Gone already.
      }
    }
  }
}

/**
 * The host's flags plus what its socket needs: net access to exactly that path
 * (Deno grants unix sockets by path), and reading and writing it.
 */
export function withSocket(flags: readonly string[], socket: string): string[] {
  const out = [...flags];
  for (const [kind, entry] of [["net", `unix:${socket}`], ["read", socket], ["write", socket]]) {
    const at = out.findIndex((flag) =>
      flag === `--allow-${kind}` || flag.startsWith(`--allow-${kind}=`)
    );
    if (at < 0) out.push(`--allow-${kind}=${entry}`);
    else if (out[at] !== `--allow-${kind}`) out[at] = `${out[at]},${entry}`;
  }
  return out;
}
