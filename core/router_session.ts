/**
 * How a broker or pipeliner stays joined to the Router: say hello (retrying until
 * the Router answers), then send a status event every `heartbeatMs` it asked for;
 * say hello again whenever the Router says it does not know us.
 *
 * @module
 */
import { toErrorData } from "./errors.ts";
import type { BrokerHelloRequest, PipelinerHelloRequest, RouterEvent } from "./protocol/mod.ts";
import { RemoteError, type RouterLink } from "./router_link.ts";

/** After the Router refused a hello, wait this long before the next, ms. */
const REFUSED_RETRY_MS = 1000;

/**
 * Where a session says that it joined or is retrying: a daemon's logger. Only what
 * it calls, so that a worker host, which sets up no logging, need not load LogTape.
 */
export interface SessionLog {
  info(message: string): void;
  warn(message: string, properties: Record<string, unknown>): void;
}

/** What a session sends. */
export interface SessionOptions {
  link: RouterLink;
  log: SessionLog;
  /** The hello request, built fresh for each attempt. */
  hello: () => Omit<BrokerHelloRequest, "id"> | Omit<PipelinerHelloRequest, "id">;
  /** The heartbeat event, built fresh each time. */
  status: () => RouterEvent;
  /** Logged once joined. */
  joined: string;
}

/** A peer's membership in the cluster. */
export class RouterSession {
  readonly #options: SessionOptions;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #joining: Promise<void> | undefined;
  #stopped = false;

  constructor(options: SessionOptions) {
    this.#options = options;
  }

  /** Whether {@linkcode stop} was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Says hello until the Router answers (one attempt at a time), then heartbeats. */
  join(): Promise<void> {
    this.#joining ??= this.#join().finally(() => (this.#joining = undefined));
    return this.#joining;
  }

  async #join(): Promise<void> {
    const { link, log } = this.#options;
    while (!this.#stopped) {
      try {
        const cluster = await link.request<{ heartbeatMs: number }>(this.#options.hello(), 2000);
        if (this.#stopped) return;
        clearInterval(this.#heartbeat);
        this.#heartbeat = setInterval(() => {
          link.send(this.#options.status()).catch(() => {});
        }, cluster.heartbeatMs);
        log.info(this.#options.joined);
        return;
      } catch (error) {
        if (this.#stopped) return;
        if (error instanceof RemoteError) {
          // An answer, not silence (e.g. a key the Router does not let join): ask again later.
          log.warn("The Router refused to let us join ({error}); retrying", {
            error: error.message,
          });
          await new Promise((resolve) => setTimeout(resolve, REFUSED_RETRY_MS));
        } else {
          log.warn("Router not answering ({error}); retrying", {
            error: toErrorData(error).message,
          });
          link.reconnect(); // Its handshake may have been refused.
        }
      }
    }
  }

  /** Stops heartbeats and retries, then says goodbye (best effort). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    await this.#options.link.send({ type: "goodbye" }).catch(() => {});
  }
}
