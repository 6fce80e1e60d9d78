/**
 * The HTTP routes of pipelines that decide at run time: delivering a signal to the
 * jobs that wait for it, and reading a map job's items one page (or one item) at a
 * time, since a map of thousands of items is summed up in its pipeline's record.
 *
 * @module
 */
import type { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { SIGNAL_NAME } from "../../core/dag/mod.ts";
import { ErrorName } from "../../core/errors.ts";
import type { JsonObject } from "../../core/types.ts";
import { ServiceError } from "../hub/pipelines/service.ts";
import type { RouterHub } from "../hub/hub.ts";
import { readJson } from "./body.ts";

/** Items in one page, at most. */
export const MAX_ITEM_PAGE = 1000;

/** Adds the signal and map item routes to `app`. */
export function mountDynamicRoutes(app: Hono, hub: RouterHub, maxBodyBytes: number): void {
  const { service } = hub;

  app.post("/pipelines/:id/signals/:name", async (c) => {
    const id = c.req.param("id");
    const name = c.req.param("name");
    if (!SIGNAL_NAME.test(name)) {
      throw new HTTPException(400, {
        message: 'A signal name is 1 to 100 letters, digits or "_.:-"',
      });
    }
    const { body, bytes } = await readJson(c.req.raw, maxBodyBytes, "the signal");
    if (!isJsonObject(body)) {
      throw new ServiceError(ErrorName.InvalidSignal, "A signal must be a JSON object");
    }
    return c.json(await hub.execute(() => service.signal(id, name, body, bytes.length)));
  });

  app.get("/pipelines/:id/jobs/:jobId/items", (c) => {
    const offset = whole(c.req.query("offset") ?? "0", "offset", Number.MAX_SAFE_INTEGER);
    const limit = whole(c.req.query("limit") ?? "100", "limit", MAX_ITEM_PAGE);
    if (limit < 1) throw new HTTPException(400, { message: "limit must be at least 1" });
    return c.json(service.mapItems(c.req.param("id"), c.req.param("jobId"), offset, limit));
  });

  app.get("/pipelines/:id/jobs/:jobId/items/:index", (c) => {
    const index = whole(c.req.param("index"), "index", Number.MAX_SAFE_INTEGER);
    return c.json(service.mapItem(c.req.param("id"), c.req.param("jobId"), index));
  });
}

function whole(text: string, what: string, max: number): number {
  const value = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value > max) {
    throw new HTTPException(400, { message: `${what} must be a whole number from 0 to ${max}` });
  }
  return value;
}

/** An object that came from `JSON.parse` (so JSON all through; the service checks its size and depth). */
function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
