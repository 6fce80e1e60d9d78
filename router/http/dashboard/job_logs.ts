/**
 * A job's log lines in its view: every attempt's lines, oldest first, read from
 * `GET /pipelines/:id/jobs/:jobId/logs` (JSON lines) when the job is chosen and
 * again when it moves on (a new attempt, its end). At most the Router's first page
 * is shown, with a note when more follow.
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
const jobLogs = { key: "", lines: null, more: false, error: "", box: null };
async function readLogs(r, job) {
  const path = "/pipelines/" + encodeURIComponent(r.id) + "/jobs/" + encodeURIComponent(job.jobId) + "/logs";
  const res = await fetch(path, { headers: state.token ? { Authorization: "Bearer " + state.token } : {} });
  if (res.status === 401) { askToken(); throw new AuthNeeded("A token is required"); }
  const text = await res.text();
  if (!res.ok) throw new Error(res.status + " " + res.statusText);
  const lines = text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  return { lines, more: res.headers.get("x-next-after") !== null };
}
/** The lines, or what stands in for them while they load. */
function logLines(logs) {
  if (logs.error) return [h("p", { class: "muted small" }, "Logs: " + logs.error)];
  if (!logs.lines) return [h("p", { class: "muted small" }, "Loading logs…")];
  if (!logs.lines.length) return [h("p", { class: "muted small", id: "job-logs" }, "No log lines")];
  return [h("strong", {}, "Logs"),
    h("ol", { class: "logs mono small", id: "job-logs" }, logs.lines.map((l) =>
      h("li", { "data-level": l.level, "data-attempt": l.attempt },
        h("span", { class: "muted" }, "#" + l.attempt + " " + clock(l.time) + " "),
        h("span", { class: "lvl" }, l.level + " "), l.message,
        l.fields ? h("span", { class: "muted" }, " " + JSON.stringify(l.fields)) : ""))),
    logs.more ? h("p", { class: "muted small" }, "More lines follow: read them over the API") : ""];
}
// The lines fill their own box when they arrive: redrawing the whole job view then
// would throw away what a user is typing in it (a signal's object, say).
dashboard.add("jobSections", { id: "logs", order: 50, render: (r, job) => {
  const key = r.id + "\u0000" + job.jobId + "\u0000" + job.status + "\u0000" + job.attempts;
  // The view may be drawn again while the lines load: they go to the box drawn last.
  const box = jobLogs.box = h("div", { class: "logsbox" });
  if (jobLogs.key === key) {
    box.replaceChildren(...logLines(jobLogs));
    return box;
  }
  Object.assign(jobLogs, { key, lines: null, more: false, error: "" });
  box.replaceChildren(...logLines(jobLogs));
  readLogs(r, job).then(({ lines, more }) => {
    if (jobLogs.key !== key) return;
    Object.assign(jobLogs, { lines, more });
  }, (error) => {
    if (jobLogs.key === key) jobLogs.error = error.message;
  }).finally(() => {
    if (jobLogs.key === key) jobLogs.box.replaceChildren(...logLines(jobLogs));
  });
  return box;
} });
`;

const style = String.raw`
.logs { list-style: none; margin: 6px 0 10px; padding: 8px 10px; background: #f7f8fa;
  border: 1px solid var(--line); border-radius: 8px; max-height: 260px; overflow: auto; }
.logs li { white-space: pre-wrap; word-break: break-word; }
.logs li[data-level="error"] .lvl, .logs li[data-level="warn"] .lvl { color: #b91c1c; }
`;

/** The logs section of a job's view. */
export const jobLogsPanel: Panel = { name: "job-logs", style, script };
