/**
 * A small client of the Router's HTTP API for the command-line tools.
 *
 * @module
 */
import type { PipelineRecord } from "../core/protocol/mod.ts";

/** The Router answered with an error status. */
export class HttpError extends Error {
  override name = "HttpError";
  /** The HTTP status. */
  readonly status: number;
  constructor(status: number, body: { error?: string; problems?: string[] }) {
    super(
      [`HTTP ${status}: ${body.error ?? "error"}`, ...(body.problems ?? []).map((p) => `  - ${p}`)]
        .join("\n"),
    );
    this.status = status;
  }
}

/** Talks to `base` (e.g. `http://127.0.0.1:8080`), with `PIPELININ_TOKEN` when set. */
export class HttpClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(base: string, token = Deno.env.get("PIPELININ_TOKEN")) {
    this.#base = base.replace(/\/$/, "");
    this.#headers = token ? { authorization: `Bearer ${token}` } : {};
  }

  async #json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(`${this.#base}${path}`, {
      ...init,
      headers: { ...this.#headers, ...(init.headers ?? {}) },
    });
    const body = await response.json();
    if (!response.ok) throw new HttpError(response.status, body);
    return body as T;
  }

  /** Submits a pipeline's JSON text; returns its id. */
  async submit(json: string): Promise<string> {
    const { id } = await this.#json<{ id: string }>("/pipelines", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: json,
    });
    return id;
  }

  /** The pipeline's record. */
  status(id: string): Promise<PipelineRecord> {
    return this.#json(`/pipelines/${encodeURIComponent(id)}`);
  }

  /** Calls `onRecord` with each state of the pipeline until it ends; returns the last. */
  async follow(id: string, onRecord: (record: PipelineRecord) => void): Promise<PipelineRecord> {
    const response = await fetch(`${this.#base}/pipelines/${encodeURIComponent(id)}/events`, {
      headers: this.#headers,
    });
    if (!response.ok || !response.body) {
      throw new HttpError(response.status, await response.json().catch(() => ({})));
    }
    let last: PipelineRecord | undefined;
    let buffer = "";
    for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6))
          .join("\n");
        if (!data) continue;
        last = JSON.parse(data) as PipelineRecord;
        onRecord(last);
      }
    }
    return last ?? await this.status(id);
  }
}
