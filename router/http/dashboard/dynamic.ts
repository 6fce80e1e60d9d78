/**
 * What pipelines that decide at run time add to a job's view: a `map` job's items by
 * state (also on its DAG node, through `mapCounts`), and for a job that waits for a
 * signal, a form that sends it (`POST /pipelines/:id/signals/:name` with a JSON
 * object as the job's output).
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
/** A map job's items by state, as one node shows them. */
function mapCounts(m) {
  return [m.succeeded + "/" + m.items + " items", m.running ? m.running + " running" : "",
    m.failed ? m.failed + " failed" : "", m.cancelled ? m.cancelled + " cancelled" : ""].filter(Boolean).join(" · ");
}
/**
 * The form of the waiting job in view, kept across redraws of that view (its job's
 * detail and logs arrive later and redraw it), so a draft typed into it stays.
 */
const signalDraft = { key: "", form: null };
/** The form that sends a waiting job's signal, with a JSON object as its output. */
function signalForm(record, job) {
  const key = record.id + "\u0000" + job.jobId + "\u0000" + job.signal;
  if (signalDraft.key !== key) Object.assign(signalDraft, { key, form: newSignalForm(record, job) });
  return signalDraft.form;
}
function newSignalForm(record, job) {
  const input = h("textarea", { rows: 2, class: "mono", "aria-label": "Signal object" }, "{}");
  const note = h("span", { class: "muted small" });
  const send = async () => {
    let body;
    try { body = JSON.parse(input.value); } catch { note.textContent = "Not JSON"; return; }
    try {
      await api("/pipelines/" + encodeURIComponent(record.id) + "/signals/" + encodeURIComponent(job.signal),
        { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      note.textContent = "Sent";
    } catch (error) {
      note.textContent = error.message;
    }
  };
  return h("div", { class: "signal" }, input,
    h("button", { type: "button", "data-signal": job.signal, onclick: send }, "Send signal “" + job.signal + "”"), note);
}
dashboard.add("jobSections", { id: "items", order: 15, render: (r, job) =>
  job.map ? h("dl", {}, h("dt", {}, "Items"), h("dd", {}, mapCounts(job.map))) : "" });
dashboard.add("jobSections", { id: "signal", order: 18, render: (r, job) =>
  job.status === "waiting" ? signalForm(r, job) : "" });
`;

const style = String.raw`
.signal { display: flex; gap: 8px; align-items: center; margin: 8px 0; }
.signal textarea { flex: 1; }
`;

/** Map items and signals. */
export const dynamicPanel: Panel = { name: "map nodes and signals", style, script };
