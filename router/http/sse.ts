/**
 * Server-Sent Events over the hub's committed changes, for the dashboard and
 * `curl -N`: a stream sends what it is started with, then what each commit changed.
 *
 * @module
 */
import type { Context as HonoContext } from "hono";
import { streamSSE } from "hono/streaming";
import type { ChangeFeed } from "../hub/change_feed.ts";

/** Queues one event on the stream. */
export type Send = (event: string, data: unknown) => void;
/** What a stream does on a committed change; "end" closes it. */
export type OnChange = (ids: ReadonlySet<string>) => "end" | void;

/**
 * Streams Server-Sent Events: `start` sends the first events and returns what to do
 * on each committed change ("end" closes the stream). A comment every 15 s keeps
 * proxies from closing an idle stream.
 */
export function follow(
  c: HonoContext,
  changes: ChangeFeed,
  start: (send: Send) => OnChange | "end",
) {
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
    }
  });
}
