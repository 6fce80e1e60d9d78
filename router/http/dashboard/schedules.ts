/**
 * The schedules in the side column: each one's cron, time zone and overlap, when it
 * runs next, and how its last tick went (with a link to the pipeline it started),
 * from `/schedules` on each poll.
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
function until(t) {
  const s = Math.max(0, Math.round((t - Date.now()) / 1000));
  if (s < 60) return "in " + s + " s";
  if (s < 3600) return "in " + Math.floor(s / 60) + " min";
  return new Date(t).toLocaleString();
}
function renderSchedules(schedules) {
  if (!schedules.length) return h("p", { id: "schedules", class: "muted" }, "No schedules");
  const OUTCOME = { started: "succeeded", skipped: "skipped", failed: "failed" };
  return h("div", { id: "schedules" }, ...schedules.map((s) =>
    h("div", { class: "broker", "data-schedule": s.id },
      h("div", { class: "row" }, h("span", { class: "mono grow", title: s.id }, s.id),
        s.lastTick ? pill(OUTCOME[s.lastTick.outcome] || "pending", s.lastTick.outcome) : ""),
      h("div", { class: "muted small mono" }, s.cron + " · " + s.timezone + " · overlap " + s.overlap),
      h("dl", { class: "small" },
        h("dt", {}, "Next run"), h("dd", { title: s.nextRunAt ? new Date(s.nextRunAt).toISOString() : "" },
          s.nextRunAt ? until(s.nextRunAt) : "none"),
        s.lastTick ? [h("dt", {}, "Last tick"), h("dd", { title: s.lastTick.error || "" }, ago(s.lastTick.at),
          s.lastTick.pipelineId ? [" · ", h("a", { href: "#/pipelines/" + encodeURIComponent(s.lastTick.pipelineId) },
            short(s.lastTick.pipelineId))] : "")] : ""))));
}
dashboard.add("side", { id: "schedules", title: "Schedules", order: 40,
  refresh: async () => renderSchedules((await api("/schedules")).schedules) });
`;

/** The schedules box. */
export const schedulesPanel: Panel = { name: "schedules", style: "", script };
