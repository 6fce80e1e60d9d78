/**
 * A job's log lines over HTTP (a map job's items under `<job id>[<index>]`):
 * `GET /pipelines/:id/jobs/:jobId/logs` as JSON lines
 * (`?attempt=`, `?after=` to resume), and `.../logs/events` as Server-Sent Events,
 * the lines stored so far and then each as it is committed, until the pipeline ends.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import type { RouterHub } from "../hub/hub.ts";
import type { JobLogChunk } from "../hub/job_logs.ts";
import type { SseLimit } from "./sse.ts";

const ENDED = new Set(["succeeded", "failed", "cancelled"]);
/** Rows (batches of lines) per read. */
const PAGE = 200;

/** Adds the log routes to `app`. */
export function addLogRoutes(app: Hono, hub: RouterHub, streams: SseLimit): void {
  app.get("/pipelines/:id/jobs/:jobId/logs", (c) => {
    const { pipelineId, jobId, attempt, after } = target(c, hub);
    const chunks = hub.store.logs.read(pipelineId, jobId, { attempt, after, limit: PAGE });
    let text = "";
    for (const chunk of chunks) for (const line of chunk.lines) text += JSON.stringify(line) + "\n";
    const last = chunks.at(-1);
    // A full page may have more behind it: `?after=` this resumes the read.
    if (chunks.length === PAGE && last) c.header("x-next-after", String(last.seq));
    return c.body(text, 200, { "content-type": "application/x-ndjson; charset=utf-8" });
  });

  app.get("/pipelines/:id/jobs/:jobId/logs/events", (c) => {
    const { pipelineId, jobId, attempt, after } = target(c, hub);
    streams.take(c);
    return streamSSE(c, async (stream) => {
      let seq = Math.max(after ?? 0, Number(c.req.header("last-event-id") ?? 0) || 0);
      let wake: (() => void) | undefined;
      let changed = true;
      const unsubscribe = hub.logChanges.subscribe((ids) => {
        if (!ids.has(pipelineId)) return;
        changed = true;
        wake?.();
      });
      stream.onAbort(() => wake?.());
      try {
        while (!stream.aborted) {
          if (!changed) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 15_000);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            wake = undefined;
            if (!changed && !stream.aborted) await stream.write(": keep-alive\n\n");
            continue;
          }
          changed = false;
          // Whether it ended is read before the lines: its last lines came before its end.
          const ended = endedOrGone(hub, pipelineId);
          let chunks: JobLogChunk[];
          do {
            chunks = hub.store.logs.read(pipelineId, jobId, { attempt, after: seq, limit: PAGE });
            if (chunks.length > 0) {
              await stream.write(events(chunks));
              seq = chunks.at(-1)!.seq;
            }
          } while (chunks.length === PAGE && !stream.aborted);
          if (ended) {
            await stream.writeSSE({ event: "end", data: "{}" });
            break;
          }
        }
      } finally {
        unsubscribe();
        streams.release();
      }
    });
  });
}

function endedOrGone(hub: RouterHub, pipelineId: string): boolean {
  try {
    return ENDED.has(hub.service.get(pipelineId).status);
  } catch {
    return true; // Pruned meanwhile.
  }
}

/** The events of some rows, as one write: a `log` event per line, its row's `seq` as id. */
function events(chunks: JobLogChunk[]): string {
  let text = "";
  for (const { seq, lines } of chunks) {
    lines.forEach((line, at) => {
      const id = at === lines.length - 1 ? `id: ${seq}\n` : "";
      text += `event: log\n${id}data: ${JSON.stringify(line)}\n\n`;
    });
  }
  return text;
}

/** The pipeline and job of a logs route (404 when either is unknown) and its query. */
function target(c: Context, hub: RouterHub) {
  const pipelineId = c.req.param("id")!;
  const jobId = c.req.param("jobId")!;
  const record = hub.service.get(pipelineId);
  // A map job's items log under `<job id>[<index>]`.
  const owner = jobId.replace(/\[\d{1,9}\]$/, "");
  if (!record.jobs.some((job) => job.jobId === owner)) {
    throw new HTTPException(404, { message: `Pipeline "${pipelineId}" has no job "${jobId}"` });
  }
  return {
    pipelineId,
    jobId,
    attempt: whole(c.req.query("attempt"), "attempt", 1),
    after: whole(c.req.query("after"), "after", 0),
  };
}

function whole(text: string | undefined, name: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d{1,15}$/.test(text) || value < min) {
    throw new HTTPException(400, {
      message: `${name} must be a whole number of at least ${min}`,
    });
  }
  return value;
}
