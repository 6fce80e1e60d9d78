/**
 * The HTTP routes of schedules: list, create, read, create-or-replace, delete. Thin
 * over the hub's schedules; each write runs as a hub batch, answered once committed.
 *
 * @module
 */
import type { Hono } from "hono";
import { PipelineValidationError, ScheduleValidationError } from "../../core/errors.ts";
import type { RouterHub } from "../hub/hub.ts";
import { readJson } from "./body.ts";

/** Adds the `/schedules` routes to `app` (whose `onError` maps the errors). */
export function addScheduleRoutes(app: Hono, hub: RouterHub, maxBodyBytes: number): void {
  const { schedules } = hub;
  const body = async (req: Request) => {
    try {
      return (await readJson(req, maxBodyBytes, "the schedule")).body;
    } catch (error) {
      if (error instanceof PipelineValidationError) {
        throw new ScheduleValidationError([...error.problems]);
      }
      throw error;
    }
  };

  app.get("/schedules", (c) => c.json({ schedules: schedules.list() }));

  app.post("/schedules", async (c) => {
    const value = await body(c.req.raw);
    const schedule = await hub.execute(() => schedules.create(value));
    c.header("Location", `/schedules/${encodeURIComponent(schedule.id)}`);
    return c.json(schedule, 201);
  });

  app.get("/schedules/:id", (c) => c.json(schedules.get(c.req.param("id"))));

  app.put("/schedules/:id", async (c) => {
    const id = c.req.param("id");
    const value = await body(c.req.raw);
    const { schedule, created } = await hub.execute(() => schedules.put(id, value));
    return c.json(schedule, created ? 201 : 200);
  });

  app.delete("/schedules/:id", async (c) => {
    const id = c.req.param("id");
    return c.json(await hub.execute(() => schedules.delete(id)));
  });
}
