/**
 * The query of `GET /pipelines`, parsed into a checked filter: every parameter has a
 * type and a cap, and an unknown one is refused rather than ignored (a typo would
 * otherwise list every pipeline as if it matched).
 *
 * @module
 */
import { HTTPException } from "hono/http-exception";
import type { PipelineStatus } from "../../core/types.ts";
import type { PipelineFilter } from "../hub/store.ts";

const STATUSES: readonly PipelineStatus[] = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
];
/** Longest function name, search text or cursor taken. */
const MAX_TEXT = 256;
/** `2026-12-03`, `2026-12-03T10:00`, `2026-12-03T10:00:00.000Z`, `...+01:00`. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const KNOWN = new Set(["status", "fn", "since", "until", "q", "limit", "cursor", "token"]);

function bad(message: string): HTTPException {
  return new HTTPException(400, { message });
}

/** A time: epoch ms, or an ISO 8601 date (`2026-12-03T10:00:00Z`). */
function time(name: string, text: string): number {
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : ISO_DATE.test(text) ? Date.parse(text) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw bad(`${name} must be epoch milliseconds or an ISO 8601 date, not "${text.slice(0, 40)}"`);
  }
  return ms;
}

function text(name: string, value: string): string {
  if (value.length === 0 || value.length > MAX_TEXT) {
    throw bad(`${name} must be 1 to ${MAX_TEXT} characters`);
  }
  return value;
}

/**
 * The filter a request's query asks for.
 *
 * @throws {HTTPException} 400 naming the parameter that is unknown, repeated or invalid.
 */
export function listFilter(url: string): PipelineFilter {
  const params = new URL(url).searchParams;
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (!KNOWN.has(key)) throw bad(`Unknown query parameter "${key.slice(0, 40)}"`);
    if (seen.has(key)) throw bad(`Query parameter "${key}" is given twice`);
    seen.add(key);
  }
  const filter: PipelineFilter = { limit: 50 };
  const status = params.get("status");
  if (status !== null) {
    const statuses = [...new Set(status.split(","))];
    for (const s of statuses) {
      if (!(STATUSES as readonly string[]).includes(s)) {
        throw bad(`Unknown status "${s.slice(0, 40)}"`);
      }
    }
    filter.statuses = statuses as PipelineStatus[];
  }
  const fn = params.get("fn");
  if (fn !== null) filter.fn = text("fn", fn);
  const q = params.get("q");
  if (q !== null) filter.search = text("q", q.trim());
  const since = params.get("since"), until = params.get("until");
  if (since !== null) filter.since = time("since", since);
  if (until !== null) filter.until = time("until", until);
  const limit = params.get("limit");
  if (limit !== null) {
    const n = Number(limit);
    if (!/^\d{1,3}$/.test(limit) || n < 1 || n > 500) {
      throw bad("limit must be a whole number from 1 to 500");
    }
    filter.limit = n;
  }
  const cursor = params.get("cursor");
  if (cursor !== null) {
    if (!/^\d{1,15}$/.test(cursor)) throw bad(`Invalid cursor "${cursor.slice(0, 40)}"`);
    filter.cursor = cursor;
  }
  return filter;
}
