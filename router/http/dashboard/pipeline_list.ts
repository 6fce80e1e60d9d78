/**
 * The dashboard's list of pipelines: what the filter selects, newest first, loaded a
 * page at a time as it is scrolled, and virtualised (only the rows in view are in
 * the DOM), so thousands of live pipelines stay readable. Changes arrive as
 * summaries over `/events`: a pipeline that passes the filter is updated or added
 * in place; one that no longer does is taken out.
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
const ROW = 72, PAGE = 200, MAX_ROWS = 5000;
const list = { rows: [], byId: new Map(), next: undefined, loading: 0, trimmed: false, timer: 0 };
function progress(jobs) {
  const counts = {};
  for (const j of jobs) counts[j.status] = (counts[j.status] || 0) + 1;
  const total = jobs.length || 1;
  return h("div", { class: "bar" }, ["succeeded", "failed", "cancelled", "skipped", "running"].map((s) =>
    h("span", { "data-s": s, style: "width:" + (100 * (counts[s] || 0) / total) + "%;border:0" })));
}
function row(p, i) {
  const done = p.jobs.filter((j) => ENDED.has(j.status)).length;
  return h("li", { "data-pipeline": p.id, "data-status": p.status, class: p.id === state.selected ? "sel" : "",
    style: "top:" + i * ROW + "px", onclick: () => { location.hash = "#/pipelines/" + encodeURIComponent(p.id); } },
    h("div", { class: "row" }, pill(p.status), h("span", { class: "mono grow", title: p.id }, short(p.id)),
      p.retryOf ? h("span", { class: "muted small", title: "retry of " + p.retryOf }, "↻") : "",
      h("span", { class: "muted small" }, ago(p.createdAt))),
    progress(p.jobs),
    h("div", { class: "row small muted" }, h("span", { class: "grow" },
      p.idempotencyKey ? "key " + p.idempotencyKey + " · " : "", [...new Set(p.jobs.map((j) => j.fn))].join(", ")),
      h("span", {}, done + "/" + p.jobs.length), p.durationMs !== undefined ? h("span", {}, ms(p.durationMs)) : ""));
}
/** Draws the rows in view (and a few around them) over a spacer as tall as all of them. */
function renderRows() {
  const box = $("plist"), inner = $("pipelines");
  inner.style.height = list.rows.length * ROW + "px";
  const first = Math.max(0, Math.floor(box.scrollTop / ROW) - 6);
  const last = Math.min(list.rows.length, first + Math.ceil((box.clientHeight || 600) / ROW) + 12);
  const items = [];
  for (let i = first; i < last; i++) items.push(row(list.rows[i], i));
  inner.replaceChildren(...items);
  inner.dataset.count = String(list.rows.length);
  const filtered = [...filterParams().keys()].length > 0;
  $("pcount").textContent = list.rows.length === 0 ? "" : list.rows.length.toLocaleString() +
    (list.next ? "+" : "") + (filtered ? " matching" : " pipelines") + (list.trimmed ? " (trimmed: narrow the filter)" : "");
  $("pempty").hidden = list.rows.length > 0 || list.loading > 0;
  $("pempty").textContent = filtered ? "No pipelines match the filter" : "No pipelines yet";
}
function scheduleRows() {
  if (!list.timer) list.timer = setTimeout(() => { list.timer = 0; renderRows(); }, 100);
}
async function loadPage(reset) {
  const generation = reset ? (list.generation = (list.generation || 0) + 1) : list.generation;
  const params = filterParams();
  params.set("limit", String(PAGE));
  if (!reset && list.next) params.set("cursor", list.next);
  list.loading++;
  try {
    const page = await api("/pipelines?" + params);
    if (generation !== list.generation) return;
    if (reset) { list.rows = []; list.byId.clear(); list.trimmed = false; $("plist").scrollTop = 0; }
    for (const p of page.pipelines) {
      if (list.byId.has(p.id)) continue;
      list.byId.set(p.id, p);
      list.rows.push(p);
    }
    list.next = page.next;
  } catch (error) {
    if (!(error instanceof AuthNeeded)) notify("Cannot list pipelines: " + error.message);
  } finally {
    list.loading--;
  }
  renderRows();
}
/** Puts a changed pipeline where it belongs, or takes it out when it no longer passes the filter. */
function upsertRow(p) {
  const old = list.byId.get(p.id);
  if (!matchesFilter(p)) {
    if (old) { list.rows.splice(list.rows.indexOf(old), 1); list.byId.delete(p.id); }
    return;
  }
  if (old) { Object.assign(old, p); return; }
  const at = list.rows.findIndex((r) => r.createdAt <= p.createdAt);
  // Older than every loaded row while more pages wait: its page brings it.
  if (at === -1 && list.next) return;
  const index = at === -1 ? list.rows.length : at;
  list.rows.splice(index, 0, p);
  list.byId.set(p.id, p);
  // Keeps what is in view still when a row comes in above it.
  const box = $("plist");
  if (index * ROW < box.scrollTop) box.scrollTop += ROW;
  if (list.rows.length > MAX_ROWS) {
    for (const gone of list.rows.splice(MAX_ROWS)) list.byId.delete(gone.id);
    list.next = undefined;
    list.trimmed = true;
  }
}
function openFeed() {
  list.feed?.close();
  let opened = false;
  const feed = list.feed = sse("/events");
  feed.onopen = () => { if (opened) loadPage(true); opened = true; };
  feed.addEventListener("pipeline", (event) => {
    upsertRow(JSON.parse(event.data));
    scheduleRows();
    emit("pipeline-changed");
  });
  feed.onerror = () => {
    if (feed.readyState !== EventSource.CLOSED || list.feed !== feed) return;
    const retry = () => setTimeout(() => list.feed === feed && openFeed(), 3000);
    api("/stats").then(retry, (error) => error instanceof AuthNeeded || retry());
  };
}
$("plist").addEventListener("scroll", () => {
  renderRows();
  const box = $("plist");
  if (list.next && !list.loading && box.scrollTop + box.clientHeight > list.rows.length * ROW - 20 * ROW) loadPage(false);
}, { passive: true });
on("start", () => { loadPage(true); openFeed(); });
on("filter", () => loadPage(true));
on("select", scheduleRows);
on("poll", scheduleRows); // Refreshes the relative times.
`;

const style = String.raw`
#plist { position: relative; overflow-y: auto; height: calc(100vh - 170px); min-height: 300px; margin: 0 -6px;
  padding: 0 6px; }
#pipelines { list-style: none; margin: 0; padding: 0; position: relative; }
#pipelines li { position: absolute; left: 0; right: 0; height: 68px; padding: 7px 10px; border-radius: 8px;
  cursor: pointer; border: 1px solid transparent; overflow: hidden; }
#pipelines li:hover { background: #f3f5f8; }
#pipelines li.sel { background: #eef4ff; border-color: #c7d7fe; }
#pcount { font-weight: 400; text-transform: none; letter-spacing: 0; margin-left: 6px; }
`;

/** The list of pipelines. */
export const pipelineListPanel: Panel = { name: "pipeline list", style, script };
