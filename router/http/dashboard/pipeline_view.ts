/**
 * The selected pipeline: loaded on `select`, followed over its own event stream
 * while it runs, and drawn as a header (status, times, links to the pipeline it
 * retries and to its retries), the registered actions, then each registered
 * section. This panel registers the two actions every pipeline has: retry a failed
 * or cancelled one (`POST /pipelines/:id/retry`, then shows the new one) and cancel
 * one that has not ended (`DELETE /pipelines/:id`, asked twice).
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
const view = { follow: null };
function renderSections(liveOnly) {
  const r = state.record;
  if (!r) return;
  for (const section of dashboard.sections) {
    if (liveOnly && !section.live) continue;
    const box = document.querySelector('#detail [data-section="' + section.id + '"]');
    if (box) box.replaceChildren(...[section.render(r)].flat(Infinity).filter((n) => n || n === 0));
  }
}
function renderView() {
  const r = state.record;
  if (!r) return;
  const open = [...$("detail").querySelectorAll("details")].map((d) => d.open);
  const actions = dashboard.actions.filter((a) => a.when(r)).map((a) => h("button", { type: "button",
    class: "action", "data-action": a.id, "data-armed": a.armed && a.armed(r) ? "1" : false,
    onclick: (event) => a.run(r, event.currentTarget) }, typeof a.label === "function" ? a.label(r) : a.label));
  $("detail").replaceChildren(h("div", { class: "card" },
    h("div", { class: "head" }, h("span", { class: "mono", id: "pipeline-id" }, r.id), pill(r.status),
      h("span", { class: "muted small" }, "created " + ago(r.createdAt)),
      r.durationMs !== undefined ? h("span", { class: "muted small" }, "took " + ms(r.durationMs)) : "",
      r.idempotencyKey ? h("span", { class: "muted small" }, "key ", h("span", { class: "mono" }, r.idempotencyKey)) : "",
      h("span", { class: "grow" }), actions),
    r.retryOf || (r.retriedBy && r.retriedBy.length) ? h("p", { class: "links small" },
      r.retryOf ? h("span", { id: "retry-of" }, "Retry of ", pipelineLink(r.retryOf)) : "",
      r.retriedBy && r.retriedBy.length ? h("span", { id: "retried-by" }, "Retried by ",
        r.retriedBy.map((id, i) => [i ? ", " : "", pipelineLink(id)])) : "") : "",
    r.error ? h("p", { class: "perr" }, (r.error.name || "Error") + ": " + r.error.message) : "",
    dashboard.sections.map((s) => h("div", { "data-section": s.id }))));
  renderSections(false);
  $("detail").querySelectorAll("details").forEach((d, i) => { d.open = open[i] || false; });
}
function showRecord(record) {
  if (record.id !== state.selected) return;
  const first = !state.record || state.record.id !== record.id;
  state.record = record;
  if (first && state.job && !record.jobs.some((j) => j.jobId === state.job)) state.job = null;
  renderView();
  emit("record", record);
}
on("select", async (id) => {
  view.follow?.close();
  view.follow = null;
  state.record = null;
  state.job = null;
  if (!id) return $("detail").replaceChildren(h("div", { class: "card muted" }, "Select a pipeline to see its jobs."));
  $("detail").replaceChildren(h("div", { class: "card muted" }, "Loading " + id + "…"));
  try {
    const record = await api("/pipelines/" + encodeURIComponent(id));
    if (state.selected !== id) return;
    showRecord(record);
  } catch (error) {
    if (!(error instanceof AuthNeeded) && state.selected === id) {
      $("detail").replaceChildren(h("div", { class: "card" }, h("strong", {}, "Cannot load " + id + ": "), error.message));
    }
    return;
  }
  if (ENDED.has(state.record.status)) return;
  const follow = view.follow = sse("/pipelines/" + encodeURIComponent(id) + "/events");
  const onRecord = (event) => {
    const record = JSON.parse(event.data);
    showRecord(record);
    if (ENDED.has(record.status)) follow.close(); // The stream ends; do not let EventSource reconnect.
  };
  follow.addEventListener("snapshot", onRecord);
  follow.addEventListener("pipeline", onRecord);
});
on("job", () => renderSections(false));
on("tick", () => renderSections(true));
/** A retry or a link to one changes the old pipeline's record, which its stream no longer sends. */
async function reloadSelected() {
  const id = state.selected;
  if (!id) return;
  const record = await api("/pipelines/" + encodeURIComponent(id)).catch(() => null);
  if (record && state.selected === id) showRecord(record);
}
dashboard.add("actions", { id: "retry", label: "Retry", order: 10,
  when: (r) => r.status === "failed" || r.status === "cancelled",
  run: async (r, button) => {
    button.disabled = true;
    try {
      const made = await api("/pipelines/" + encodeURIComponent(r.id) + "/retry", { method: "POST" });
      notify("Retried as " + made.id, "ok");
      location.hash = "#/pipelines/" + encodeURIComponent(made.id);
    } catch (error) {
      button.disabled = false;
      if (!(error instanceof AuthNeeded)) notify("Retry failed: " + error.message);
    }
  } });
// Asked twice, without a modal dialog: a second click within 4 s cancels (kept across redraws).
const armedCancel = (r) => view.armed && view.armed.id === r.id && Date.now() - view.armed.at < 4000;
dashboard.add("actions", { id: "cancel", order: 20,
  label: (r) => (armedCancel(r) ? "Cancel this pipeline?" : "Cancel"),
  armed: armedCancel,
  when: (r) => r.status === "queued" || r.status === "running",
  run: async (r, button) => {
    if (!armedCancel(r)) {
      view.armed = { id: r.id, at: Date.now() };
      renderView();
      setTimeout(() => { if (state.record && state.record.id === r.id) renderView(); }, 4100);
      return;
    }
    view.armed = null;
    button.disabled = true;
    try {
      await api("/pipelines/" + encodeURIComponent(r.id), { method: "DELETE" });
      await reloadSelected();
    } catch (error) {
      button.disabled = false;
      if (!(error instanceof AuthNeeded)) notify("Cancel failed: " + error.message);
    }
  } });
`;

const style = String.raw`
#detail .head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin-bottom: 12px; }
#detail .head .mono { font-size: 13px; font-weight: 600; }
#detail .head .grow { flex: 1; }
.action[data-action=cancel] { color: #92400e; }
.action[data-armed] { border-color: var(--failed-b); color: var(--failed-b); }
.links { margin: -4px 0 10px; display: flex; gap: 14px; }
.perr { margin: -4px 0 12px; color: #991b1b; font-weight: 500; }
[data-section] + [data-section] { margin-top: 14px; }
`;

/** The selected pipeline, its actions and sections. */
export const pipelineViewPanel: Panel = { name: "pipeline view", style, script };
