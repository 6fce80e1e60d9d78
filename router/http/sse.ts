/**
 * Server-Sent Events over the hub's committed changes, for the dashboard and
 * `curl -N`: a stream sends what it is started with, then what each commit changed.
 *
 * @module
 */
import type { Context as HonoContext } from "hono";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import type { ChangeFeed } from "../hub/change_feed.ts";

/** Queues one event on the stream. */
export type Send = (event: string, data: unknown) => void;
/** What a stream does on a committed change; "end" closes it. */
export type OnChange = (ids: ReadonlySet<string>) => "end" | void;

/**
 * How many event streams may be open at once: each holds a subscription and a
 * queue, so a client opening thousands must not grow the Router without bound.
 */
export class SseLimit {
  readonly max: number;
  #open = 0;
  constructor(max: number) {
    this.max = max;
  }
  /** Streams open now. */
  get open(): number {
    return this.#open;
  }
  /** Takes a place, or throws a 503 with `Retry-After` when none is left. */
  take(c: HonoContext): void {
    if (this.#open >= this.max) {
      c.header("Retry-After", "1");
      throw new HTTPException(503, {
        message: `${this.#open} event streams are open, the limit is ${this.max}: retry later`,
      });
    }
    this.#open++;
  }
  /** Gives a place back. */
  release(): void {
    this.#open--;
  }
}

/**
 * Streams Server-Sent Events: `start` sends the first events and returns what to do
 * on each committed change ("end" closes the stream). A comment every 15 s keeps
 * proxies from closing an idle stream. Refused with 503 while `limit` has no place.
 */
export function follow(
  c: HonoContext,
  changes: ChangeFeed,
  limit: SseLimit,
  start: (send: Send) => OnChange | "end",
) {
  limit.take(c);
  return streamSSE(c, async (stream) => {
    const queue: Array<{ event: string; data: string }> = [];
    let wake: (() => void) | undefined;
    let done = false;
    const send: Send = (event, data) => {
      queue.push({ event, data: JSON.stringify(data) });
      wake?.();
    };
    const onChange = start(send);
    let unsubscribe = () => {};
    if (onChange === "end") done = true;
    else {
      unsubscribe = changes.subscribe((ids) => {
        if (onChange(ids) === "end") done = true;
        wake?.();
      });
    }
    stream.onAbort(() => {
      done = true;
      wake?.();
    });
    try {
      while (true) {
        while (queue.length > 0) await stream.writeSSE(queue.shift()!);
        if (done || stream.aborted) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 15_000);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        if (queue.length === 0 && !done) await stream.write(": keep-alive\n\n");
      }
    } finally {
      unsubscribe();
      limit.release();
    }
  });
}
