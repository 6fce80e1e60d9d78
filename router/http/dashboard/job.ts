/**
 * The chosen job of the selected pipeline: its function, attempts, host, times,
 * the error of each failed attempt, the input it was given (read from
 * `GET /pipelines/:id/jobs/:jobId`, cut to what its function `requires`) and its
 * output. Each part is a registered job section, so more (its logs: `job_logs.ts`)
 * slot in beside them.
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
const jobDetail = { key: "", body: null, error: "" };
function errorBlock(error, title) {
  return [h("strong", {}, (title ? title + ": " : "") + (error.name || "Error") + ": " + error.message),
    h("pre", { class: "err" }, error.stack || error.message)];
}
/** The job as its own route reads it (with its input), fetched again when the job moves on. */
function detailOf(r, job) {
  const key = r.id + "\u0000" + job.jobId + "\u0000" + job.status + "\u0000" + job.attempts;
  if (jobDetail.key !== key) {
    jobDetail.key = key;
    jobDetail.body = null;
    jobDetail.error = "";
    api("/pipelines/" + encodeURIComponent(r.id) + "/jobs/" + encodeURIComponent(job.jobId)).then((body) => {
      if (jobDetail.key !== key) return;
      jobDetail.body = body;
      emit("job", job.jobId);
    }, (error) => {
      if (jobDetail.key !== key) return;
      jobDetail.error = error.message;
      emit("job", job.jobId);
    });
  }
  return jobDetail;
}
function renderJob(r) {
  const job = r.jobs.find((j) => j.jobId === state.job);
  if (!job) {
    return h("div", { class: "job" }, h("p", { class: "muted small" }, "Click a job for its attempts, input and output."),
      h("details", {}, h("summary", {}, "Document"), h("pre", {}, json(r.document))));
  }
  return h("div", { class: "job", "data-job-view": job.jobId },
    h("h3", {}, h("span", { class: "mono" }, job.jobId), " ", pill(job.status)),
    dashboard.jobSections.map((s) => h("div", { "data-job-section": s.id }, s.render(r, job) || "")));
}
dashboard.add("sections", { id: "job", order: 30, render: renderJob });
dashboard.add("jobSections", { id: "summary", order: 10, render: (r, job) =>
  h("dl", {}, h("dt", {}, "Function"), h("dd", { class: "mono" }, job.fn),
    h("dt", {}, "Attempts"), h("dd", { id: "job-attempts" }, job.attempts),
    job.host ? [h("dt", {}, "Host"), h("dd", { class: "mono" }, job.host)] : "",
    job.broker ? [h("dt", {}, "Broker"), h("dd", { class: "mono" }, job.broker)] : "",
    job.startedAt ? [h("dt", {}, "Started"), h("dd", {}, clock(job.startedAt))] : "",
    job.finishedAt ? [h("dt", {}, "Ended"), h("dd", {}, clock(job.finishedAt))] : "",
    jobTime(job) !== undefined ? [h("dt", {}, "Last attempt took"), h("dd", {}, ms(jobTime(job)))] : "",
    job.retryAt && job.status === "pending" ? [h("dt", {}, "Next attempt"), h("dd", {}, clock(job.retryAt))] : "") });
dashboard.add("jobSections", { id: "attempts", order: 20, render: (r, job) => {
  const errors = job.attemptErrors || [];
  if (!errors.length) return job.error ? errorBlock(job.error) : "";
  // One error per failed attempt, oldest first; the last one is the job's error.
  return h("div", { class: "attempts" }, h("strong", {}, errors.length + " failed attempt" + (errors.length > 1 ? "s" : "")),
    h("ol", {}, errors.map((error, i) => h("li", { "data-attempt-error": i + 1 }, errorBlock(error, "Attempt " + (i + 1))))),
    job.error && job.error !== errors[errors.length - 1] && job.error.message !== errors[errors.length - 1].message
      ? errorBlock(job.error, "Job") : "");
} });
dashboard.add("jobSections", { id: "input", order: 30, render: (r, job) => {
  const detail = detailOf(r, job);
  if (detail.error) return h("p", { class: "muted small" }, "Input: " + detail.error);
  if (!detail.body) return h("p", { class: "muted small" }, "Loading input…");
  if (!detail.body.input) return h("p", { class: "muted small" }, "Input not available");
  return [h("strong", {}, job.status === "pending" ? "Input (so far)" : "Input"), h("pre", { id: "job-input" }, json(detail.body.input))];
} });
dashboard.add("jobSections", { id: "output", order: 40, render: (r, job) =>
  job.output !== undefined ? [h("strong", {}, "Output"), h("pre", { id: "job-output" }, json(job.output))] : "" });
`;

const style = String.raw`
.job h3 { margin: 0 0 8px; font-size: 15px; }
.attempts ol { margin: 4px 0 0; padding-left: 0; list-style: none; }
dl { display: grid; align-items: baseline; grid-template-columns: max-content 1fr; gap: 3px 14px; margin: 0 0 10px; }
dt { color: var(--muted); } dd { margin: 0; }
`;

/** The job section. */
export const jobPanel: Panel = { name: "job", style, script };
