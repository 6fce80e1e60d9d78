/**
 * The dashboard's filter bar: statuses, a function, a time range and a search for
 * an id or idempotency key. The filter lives in `state.filter` and in the page's
 * query string (so a filtered view can be bookmarked); a change emits `filter`.
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
const RANGES = [["", "Any time"], ["15m", "Last 15 min"], ["1h", "Last hour"], ["24h", "Last 24 h"],
  ["7d", "Last 7 days"], ["custom", "Between…"]];
const RANGE_MS = { "15m": 900e3, "1h": 3600e3, "24h": 86400e3, "7d": 604800e3 };
state.filter = (() => {
  const q = new URLSearchParams(location.search);
  return { statuses: (q.get("status") || "").split(",").filter((s) => PIPELINE_STATUSES.includes(s)),
    fn: q.get("fn") || "", range: q.get("range") || "", since: q.get("since") || "", until: q.get("until") || "",
    q: q.get("q") || "" };
})();
/** The filter as GET /pipelines parameters (a relative range is taken from now). */
function filterParams() {
  const f = state.filter, out = new URLSearchParams();
  if (f.statuses.length) out.set("status", f.statuses.join(","));
  if (f.fn) out.set("fn", f.fn);
  if (RANGE_MS[f.range]) out.set("since", String(Date.now() - RANGE_MS[f.range]));
  if (f.range === "custom" && f.since) out.set("since", String(new Date(f.since).getTime()));
  if (f.range === "custom" && f.until) out.set("until", String(new Date(f.until).getTime()));
  if (f.q.trim()) out.set("q", f.q.trim());
  return out;
}
/** Whether a pipeline summary passes the filter (for live updates from /events). */
function matchesFilter(p) {
  const params = filterParams(), q = params.get("q");
  if (params.has("status") && !state.filter.statuses.includes(p.status)) return false;
  if (state.filter.fn && !p.jobs.some((j) => j.fn === state.filter.fn)) return false;
  if (params.has("since") && p.createdAt < Number(params.get("since"))) return false;
  if (params.has("until") && p.createdAt >= Number(params.get("until"))) return false;
  if (q && !(p.id === q || p.idempotencyKey === q || (q.length >= 8 && p.id.startsWith(q)))) return false;
  return true;
}
function setFilter(change) {
  Object.assign(state.filter, change);
  const f = state.filter, q = new URLSearchParams();
  if (f.statuses.length) q.set("status", f.statuses.join(","));
  for (const key of ["fn", "range", "q"]) if (f[key]) q.set(key, f[key]);
  if (f.range === "custom") { if (f.since) q.set("since", f.since); if (f.until) q.set("until", f.until); }
  history.replaceState(null, "", (q.size ? "?" + q : location.pathname) + location.hash);
  renderFilters();
  emit("filter", state.filter);
}
let searchTimer = 0;
function renderFilters() {
  const f = state.filter;
  const chips = PIPELINE_STATUSES.map((s) => h("button", { type: "button", class: "chip", "data-s": s,
    "data-filter-status": s, "aria-pressed": f.statuses.includes(s) ? "true" : "false",
    onclick: () => setFilter({ statuses: f.statuses.includes(s) ? f.statuses.filter((x) => x !== s) : [...f.statuses, s] }) }, s));
  const fns = [...new Set([...(state.functionNames || []), f.fn].filter(Boolean))].sort();
  const fnSelect = h("select", { id: "filter-fn", "aria-label": "Function",
    onchange: (e) => setFilter({ fn: e.target.value }) },
    h("option", { value: "" }, "Any function"), fns.map((n) => h("option", { value: n, selected: n === f.fn }, n)));
  const range = h("select", { id: "filter-range", "aria-label": "Time", onchange: (e) => setFilter({ range: e.target.value }) },
    RANGES.map(([v, label]) => h("option", { value: v, selected: v === f.range }, label)));
  const custom = f.range !== "custom" ? "" : [
    h("input", { type: "datetime-local", id: "filter-since", "aria-label": "Since", value: f.since, step: 1,
      onchange: (e) => setFilter({ since: e.target.value }) }),
    h("span", { class: "muted small" }, "to"),
    h("input", { type: "datetime-local", id: "filter-until", "aria-label": "Until", value: f.until, step: 1,
      onchange: (e) => setFilter({ until: e.target.value }) })];
  const search = h("input", { type: "search", id: "filter-q", placeholder: "Pipeline id or idempotency key",
    value: f.q, autocomplete: "off", oninput: (e) => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => { state.filter.q = e.target.value; setFilter({}); }, 250);
    } });
  const active = f.statuses.length || f.fn || f.range || f.q;
  const focused = document.activeElement && document.activeElement.id;
  const clear = active ? h("button", { type: "button", id: "filter-clear", onclick: () =>
    setFilter({ statuses: [], fn: "", range: "", since: "", until: "", q: "" }) }, "Clear") : "";
  $("filters").replaceChildren(...[h("div", { class: "chips" }, chips), fnSelect, range, custom, search, clear]
    .flat().filter(Boolean));
  if (focused && $(focused)) $(focused).focus();
}
on("poll", () => {
  api("/functions").then((body) => {
    const names = body.functions.map((f) => f.name);
    if (names.join() === (state.functionNames || []).join()) return;
    state.functionNames = names;
    if (document.activeElement && document.activeElement.id === "filter-q") return;
    renderFilters();
  }, () => {});
});
renderFilters();
`;

const style = String.raw`
#filters { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; padding: 10px 20px 0; }
#filters .chips { display: flex; gap: 4px; }
.chip { padding: 2px 10px; border-radius: 99px; font-size: 12px; opacity: .55; }
.chip[aria-pressed=true] { opacity: 1; font-weight: 600; box-shadow: 0 0 0 1px currentColor inset; }
#filters select, #filters input { font: inherit; font-size: 13px; padding: 4px 8px; border: 1px solid var(--line);
  border-radius: 7px; background: var(--card); }
#filter-q { min-width: 280px; }
`;

/** The filter bar. */
export const filtersPanel: Panel = { name: "filters", style, script };
