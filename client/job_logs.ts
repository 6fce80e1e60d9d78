/**
 * A job's log lines from the Router's HTTP API: read them ({@linkcode JobLogClient.read})
 * or follow them live over Server-Sent Events ({@linkcode JobLogClient.follow}).
 *
 * ```ts
 * import { JobLogClient } from "./mod.ts";
 *
 * const logs = new JobLogClient({ url: "http://127.0.0.1:8080" });
 * for await (const line of logs.follow(pipelineId, "downloader")) {
 *   console.log(line.attempt, line.level, line.message);
 * }
 * ```
 *
 * @module
 */
import type { JsonObject } from "../core/types.ts";
import { ActiveHttpRouter } from "./active_http.ts";

/** Severity of a log line. */
export type JobLogLevel = "debug" | "info" | "warn" | "error";

/** One line a job attempt logged. */
export interface JobLogLine {
  attempt: number;
  /** Epoch ms. */
  time: number;
  level: JobLogLevel;
  message: string;
  fields?: JsonObject;
}

/** Options of {@linkcode JobLogClient}. */
export interface JobLogClientOptions {
  /**
   * The Router's HTTP base, e.g. `http://127.0.0.1:8080`, or those of every Router of
   * a cluster (a list or a comma list): the client reads from the active one.
   */
  url: string | readonly string[];
  /** Sent as `Authorization: Bearer <token>` (the Router's `PIPELININ_TOKEN`). */
  token?: string;
}

/** Which lines to read. */
export interface JobLogQuery {
  /** Only this attempt's lines. */
  attempt?: number;
  /** Stops a {@linkcode JobLogClient.follow}. */
  signal?: AbortSignal;
}

/** The Router refused a log request (unknown pipeline or job, bad token, ...). */
export class JobLogError extends Error {
  override name = "JobLogError";
  /** The HTTP status. */
  readonly status: number;
  constructor(status: number, message: string) {
    super(`HTTP ${status}: ${message}`);
    this.status = status;
  }
}

/** Reads and follows jobs' log lines over HTTP. */
export class JobLogClient {
  readonly #router: ActiveHttpRouter;
  readonly #headers: Record<string, string>;

  /** @throws {TypeError} for a bad URL. */
  constructor(options: JobLogClientOptions) {
    this.#router = new ActiveHttpRouter(options.url);
    this.#headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
  }

  /**
   * Every line stored for the job so far, oldest first.
   *
   * @throws {JobLogError} when the Router refuses (404: unknown pipeline or job).
   */
  async read(pipelineId: string, jobId: string, query: JobLogQuery = {}): Promise<JobLogLine[]> {
    const lines: JobLogLine[] = [];
    let after: string | null = null;
    do {
      const response = await this.#get(this.#path(pipelineId, jobId, "", query, after), query);
      const text = await response.text();
      for (const line of text.split("\n")) if (line !== "") lines.push(JSON.parse(line));
      after = response.headers.get("x-next-after");
    } while (after !== null);
    return lines;
  }

  /**
   * The job's lines, stored ones first, then each as the Router stores it; ends once
   * the pipeline has ended and every line was given, or when `query.signal` aborts.
   *
   * @throws {JobLogError} when the Router refuses.
   */
  async *follow(
    pipelineId: string,
    jobId: string,
    query: JobLogQuery = {},
  ): AsyncGenerator<JobLogLine, void, undefined> {
    const response = await this.#get(this.#path(pipelineId, jobId, "/events", query), query);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event.type === "end") return;
          if (event.type === "log") yield JSON.parse(event.data) as JobLogLine;
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }

  #path(
    pipelineId: string,
    jobId: string,
    tail: string,
    query: JobLogQuery,
    after: string | null = null,
  ): string {
    const params = new URLSearchParams();
    if (query.attempt !== undefined) params.set("attempt", String(query.attempt));
    if (after !== null) params.set("after", after);
    const search = params.size > 0 ? `?${params}` : "";
    return `/pipelines/${encodeURIComponent(pipelineId)}/jobs/${
      encodeURIComponent(jobId)
    }/logs${tail}${search}`;
  }

  async #get(path: string, query: JobLogQuery): Promise<Response> {
    const response = await this.#router.fetch(path, {
      headers: this.#headers,
      ...(query.signal ? { signal: query.signal } : {}),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({})) as { error?: string };
      throw new JobLogError(response.status, body.error ?? response.statusText);
    }
    return response;
  }
}

function parseEvent(block: string): { type: string; data: string } {
  let type = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) type = line.slice(7);
    else if (line.startsWith("data: ")) data.push(line.slice(6));
  }
  return { type, data: data.join("\n") };
}
