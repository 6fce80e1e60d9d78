/**
 * A timeline of the selected pipeline's jobs: one row per job, a bar from when its
 * first attempt started to when it ended (or now, while it runs), coloured by its
 * state and labelled with the host and broker of its last attempt. Time runs from
 * the pipeline's submit, so the wait before each job shows too.
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
function renderTimeline(r) {
  const W = 760, LABEL = 150, ROW_H = 32, TOP = 22, now = Date.now();
  const t0 = r.createdAt;
  const ends = r.jobs.map((j) => j.finishedAt || (j.status === "running" ? now : j.startedAt || 0));
  const t1 = Math.max(t0 + 1, r.finishedAt || 0, ...ends, ENDED.has(r.status) ? 0 : now);
  const x = (t) => LABEL + (W - LABEL - 10) * (t - t0) / (t1 - t0);
  const height = TOP + r.jobs.length * ROW_H + 6;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const t = t0 + f * (t1 - t0);
    return [h("line", { x1: x(t), x2: x(t), y1: TOP - 4, y2: height, class: "tick" }),
      h("text", { x: x(t), y: 12, class: "axis", "text-anchor": f === 0 ? "start" : f === 1 ? "end" : "middle" },
        "+" + ms(t - t0))];
  });
  const rows = r.jobs.map((j, i) => {
    const y = TOP + i * ROW_H;
    const end = j.finishedAt || (j.status === "running" ? now : undefined);
    const where = [j.host, j.broker && j.broker !== j.host ? j.broker : ""].filter(Boolean).join(" · ");
    const text = j.startedAt ? [where, ms((end || j.startedAt) - j.startedAt),
      j.attempts > 1 ? j.attempts + " attempts" : ""].filter(Boolean).join(" · ") : j.status === "pending" ? "not started" : j.status;
    const left = j.startedAt ? x(j.startedAt) : LABEL;
    const width = j.startedAt ? Math.max(2, x(end || j.startedAt) - left) : 0;
    return h("g", { class: "trow", "data-timeline-job": j.jobId, "data-status": j.status, "data-host": j.host || "",
      onclick: () => { state.job = j.jobId; emit("job", j.jobId); } },
      h("title", {}, j.jobId + ": " + j.status + (j.startedAt ? ", started " + clock(j.startedAt) : "") +
        (j.finishedAt ? ", ended " + clock(j.finishedAt) : "") + (where ? ", on " + where : "")),
      h("text", { x: 4, y: y + 14, class: "tlabel" + (state.job === j.jobId ? " sel" : "") }, trunc(j.jobId, 20)),
      width ? h("rect", { x: left, y: y + 4, width, height: 11, rx: 3, class: "tbar" }) : "",
      // Under its bar, from where the bar starts; from the right edge when the bar starts late.
      h("text", { x: left > W - 280 ? W - 4 : left, y: y + 27, class: "tnote",
        "text-anchor": left > W - 280 ? "end" : "start" }, text));
  });
  return h("div", { class: "timeline" }, h("h4", {}, "Timeline"),
    h("svg", { id: "timeline", width: "100%", viewBox: "0 0 " + W + " " + height, preserveAspectRatio: "xMinYMin meet" },
      ticks, rows));
}
dashboard.add("sections", { id: "timeline", order: 20, live: true, render: renderTimeline });
`;

const style = String.raw`
.timeline h4 { margin: 0; color: var(--muted); font-size: 12px; font-weight: 600;
  text-transform: uppercase; letter-spacing: .06em; }
#timeline { display: block; margin-top: 6px; }
#timeline .tick { stroke: #eceef2; }
#timeline .axis { font-size: 10px; fill: var(--muted); }
#timeline .trow { cursor: pointer; }
#timeline .tlabel { font-size: 12px; fill: var(--text); font-family: ui-monospace, Menlo, Consolas, monospace; }
#timeline .tlabel.sel { font-weight: 700; }
#timeline .tnote { font-size: 11px; fill: var(--muted); }
#timeline .tbar { fill: var(--pending-b); }
#timeline [data-status=running] .tbar { fill: #60a5fa; }
#timeline [data-status=succeeded] .tbar { fill: var(--succeeded-b); }
#timeline [data-status=failed] .tbar { fill: var(--failed-b); }
#timeline [data-status=cancelled] .tbar { fill: var(--cancelled-b); }
`;

/** The timeline section. */
export const timelinePanel: Panel = { name: "timeline", style, script };
