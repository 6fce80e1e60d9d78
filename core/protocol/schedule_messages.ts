/**
 * The requests on durable cron schedules (client role), beside the other messages
 * of `messages.ts`.
 *
 * @module
 */
import type { JsonObject, ScheduleSpec } from "../types.ts";

/**
 * Creates a durable cron schedule; replies its `ScheduleRecord`. Like a
 * submit's pipeline, the parser checks only that `schedule` is a JSON object: the
 * Router checks the rest and reports every problem at once (`ScheduleValidationError`).
 */
export interface CreateScheduleRequest {
  type: "create-schedule";
  id: string;
  schedule: ScheduleSpec | JsonObject;
}
/** Creates or replaces the schedule `scheduleId`; replies `{ schedule, created }`. */
export interface PutScheduleRequest {
  type: "put-schedule";
  id: string;
  scheduleId: string;
  schedule: ScheduleSpec | JsonObject;
}
/** One schedule; replies its `ScheduleRecord`. */
export interface GetScheduleRequest {
  type: "get-schedule";
  id: string;
  scheduleId: string;
}
/** Every schedule; replies `{ schedules: ScheduleRecord[] }`. */
export interface ListSchedulesRequest {
  type: "list-schedules";
  id: string;
}
/** Deletes a schedule (the pipelines it started go on); replies `{ id, deleted: true }`. */
export interface DeleteScheduleRequest {
  type: "delete-schedule";
  id: string;
  scheduleId: string;
}
