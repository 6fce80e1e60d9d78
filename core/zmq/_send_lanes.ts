/**
 * Queued outgoing messages, one FIFO lane per destination. A ROUTER addresses each
 * message to a peer by its first frame; when one peer is full (at its high-water
 * mark) only its lane waits, and messages to every other peer still go out. Other
 * socket kinds have a single lane.
 *
 * @module
 */
import { Queue } from "./_queue.ts";

/** A send waiting for room. */
export interface PendingSend {
  frames: Uint8Array[];
  resolve: () => void;
  reject: (error: Error) => void;
}

const latin1 = new TextDecoder("latin1");

/** The lanes of one socket. */
export class SendLanes {
  readonly #byPeer: boolean;
  readonly #lanes = new Map<string, Queue<PendingSend>>();
  #length = 0;

  /** `byPeer`: one lane per first frame (ROUTER); otherwise one lane. */
  constructor(byPeer: boolean) {
    this.#byPeer = byPeer;
  }

  #key(frames: Uint8Array[]): string {
    return this.#byPeer && frames.length > 1 ? latin1.decode(frames[0]) : "";
  }

  /** Messages waiting in all lanes. */
  get length(): number {
    return this.#length;
  }

  /** Whether the lane these frames would join is empty (so sending now keeps order). */
  isClear(frames: Uint8Array[]): boolean {
    return this.#length === 0 || !this.#lanes.has(this.#key(frames));
  }

  /** Queues a send at the end of its lane. */
  push(pending: PendingSend): void {
    const key = this.#key(pending.frames);
    let lane = this.#lanes.get(key);
    if (!lane) this.#lanes.set(key, lane = new Queue());
    lane.push(pending);
    this.#length++;
  }

  /** Removes and returns every queued send. */
  drain(): PendingSend[] {
    const all = [...this.#lanes.values()].flatMap((lane) => lane.drain());
    this.#lanes.clear();
    this.#length = 0;
    return all;
  }

  /**
   * Sends from every lane in order until each is empty or blocked. `write` returns
   * false when the destination is full, or throws (that send is rejected, the lane
   * goes on). Returns how many were sent.
   */
  flush(write: (frames: Uint8Array[]) => boolean): number {
    let sent = 0;
    for (const [key, lane] of this.#lanes) {
      while (lane.length > 0) {
        const head = lane.peek()!;
        let done: boolean;
        try {
          done = write(head.frames);
        } catch (error) {
          lane.shift();
          this.#length--;
          head.reject(error instanceof Error ? error : new Error(String(error)));
          continue;
        }
        if (!done) break;
        lane.shift();
        this.#length--;
        head.resolve();
        sent++;
      }
      if (lane.length === 0) this.#lanes.delete(key);
    }
    return sent;
  }
}
