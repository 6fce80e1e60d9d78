/**
 * The Router's ZAP handler (ZeroMQ RFC 27): libzmq asks it about every CURVE
 * handshake on the Router's sockets, at `inproc://zeromq.zap.01` in the Router's own
 * libzmq context. A key the keyring allows gets status 200 and its User-Id, which
 * libzmq then attaches to each message of that connection; any other key, and any
 * mechanism but CURVE, gets 400, and the connection is dropped before a message of
 * it is read.
 *
 * @module
 */
import { z85Encode } from "../../core/curve_keys.ts";
import type { Logger } from "../../core/log.ts";
import { type Context, type Socket, SocketClosedError } from "../../core/zmq/mod.ts";
import { ErrorBudget } from "./error_budget.ts";
import type { Keyring } from "./keyring.ts";

/** Where libzmq looks for the handler of a context. */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

const decoder = new TextDecoder();

/** Answers a context's ZAP requests from a keyring. */
export class ZapHandler {
  readonly #socket: Socket;
  readonly #keyring: Keyring;
  readonly #log: Logger;
  readonly #budget = new ErrorBudget();
  readonly #loop: Promise<void>;

  /**
   * Binds the handler in `context`: do it before any CURVE socket binds, since a
   * CURVE server with no handler lets every key in.
   */
  constructor(context: Context, keyring: Keyring, log: Logger) {
    this.#keyring = keyring;
    this.#log = log;
    this.#socket = context.socket("rep", { linger: 0 });
    this.#socket.bind(ZAP_ENDPOINT);
    this.#loop = this.#serve();
  }

  /** Ends once the context closes. */
  get done(): Promise<void> {
    return this.#loop;
  }

  async #serve(): Promise<void> {
    while (true) {
      let frames: Uint8Array[];
      try {
        frames = await this.#socket.receive();
      } catch (error) {
        if (error instanceof SocketClosedError) return;
        throw error;
      }
      await this.#socket.send(this.#answer(frames)).catch(() => {});
    }
  }

  /** The reply to one request: version, request id, status, text, User-Id, metadata. */
  #answer(frames: Uint8Array[]): Uint8Array[] {
    const [version, requestId, , address, , mechanism, credential] = frames;
    const empty = new Uint8Array(0);
    const reply = (status: string, text: string, userId = "") =>
      [version ?? empty, requestId ?? empty, status, text, userId, ""].map((part) =>
        typeof part === "string" ? new TextEncoder().encode(part) : part
      );
    const where = address ? decoder.decode(address) : "?";
    if (decoder.decode(version ?? empty) !== "1.0") return reply("400", "Unknown ZAP version");
    if (decoder.decode(mechanism ?? empty) !== "CURVE" || credential?.length !== 32) {
      this.#refused(where, "mechanism is not CURVE");
      return reply("400", "CURVE only");
    }
    const key = z85Encode(credential);
    const admitted = this.#keyring.admit(key);
    if (!admitted) {
      this.#refused(where, `key ${key} is not on the allow-list`);
      return reply("400", "Key not allowed");
    }
    return reply("200", "OK", admitted.userId);
  }

  #refused(address: string, why: string): void {
    // A flood of handshakes must not flood the log.
    if (!this.#budget.spend(new TextEncoder().encode(address))) return;
    this.#log.warn("Refused a ZeroMQ peer from {address}: {why}", { address, why });
  }
}
