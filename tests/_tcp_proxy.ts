/**
 * Test helper: a TCP proxy on a free port that can make the connections it carries go
 * silent, as a network black hole does (no FIN, no RST: bytes just stop arriving),
 * while new connections still go through. Closed with `await using`.
 *
 * @module
 */
import { freePort } from "./_ports.ts";

interface Carried {
  client: Deno.TcpConn;
  server: Deno.TcpConn;
  silent: boolean;
}

/** Forwards 127.0.0.1:`port` to `target`. */
export class TcpProxy implements AsyncDisposable {
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #target: number;
  readonly #carried = new Set<Carried>();
  readonly #pumps: Promise<void>[] = [];
  readonly #accepting: Promise<void>;

  /** Proxies to `127.0.0.1:targetPort`. */
  constructor(targetPort: number) {
    this.port = freePort();
    this.#target = targetPort;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#accepting = this.#accept();
  }

  /** How many connections it carried so far. */
  connections = 0;

  /** Every connection carried now goes silent for good; later ones pass. */
  silence(): void {
    for (const pair of this.#carried) pair.silent = true;
  }

  /** Once, as soon as a connection has carried `bytes` from the server: {@linkcode silence}. */
  silenceAfter(bytes: number): void {
    this.#silenceAfter = bytes;
  }

  #silenceAfter: number | undefined;

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        const server = await Deno.connect({ hostname: "127.0.0.1", port: this.#target }).catch(
          () => undefined,
        );
        if (!server) {
          client.close();
          continue;
        }
        this.connections++;
        const pair: Carried = { client, server, silent: false };
        this.#carried.add(pair);
        this.#pumps.push(
          this.#pump(pair, client, server, false),
          this.#pump(pair, server, client, true),
        );
      }
    } catch { /* closed */ }
  }

  /** Copies `from` to `to` until either closes; once silent, what arrives is dropped. */
  async #pump(
    pair: Carried,
    from: Deno.TcpConn,
    to: Deno.TcpConn,
    fromServer: boolean,
  ): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    let carried = 0;
    try {
      while (true) {
        const n = await from.read(buffer);
        if (n === null) break;
        if (fromServer && this.#silenceAfter !== undefined) {
          carried += n;
          if (carried >= this.#silenceAfter) {
            this.#silenceAfter = undefined;
            this.silence();
          }
        }
        if (pair.silent) continue;
        let sent = 0;
        while (sent < n) sent += await to.write(buffer.subarray(sent, n));
      }
    } catch { /* closed */ }
    if (!pair.silent) this.#close(pair);
  }

  #close(pair: Carried): void {
    this.#carried.delete(pair);
    for (const conn of [pair.client, pair.server]) {
      try {
        conn.close();
      } catch { /* closed already */ }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const pair of [...this.#carried]) this.#close(pair);
    await Promise.all(this.#pumps);
  }
}
