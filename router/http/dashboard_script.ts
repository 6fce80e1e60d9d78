/**
 * The dashboard's core browser script, inlined into its page before the panels'
 * (see `dashboard/panel.ts`): DOM and format helpers, the API with its token, an
 * event bus, and the registries panels add themselves to. It builds every node with
 * `textContent`/`setAttribute`, so ids, errors and outputs are never parsed as HTML.
 *
 * Events on the bus: `filter` (the list's filter changed), `pipeline` (a summary
 * from `/events`), `select` (a pipeline id, or null), `record` (the selected
 * pipeline's full record), `job` (a job id chosen), `tick` (each second while the
 * selected pipeline runs), `poll` (every 2 s), `start` (after the token is known).
 *
 * @module
 */

/** The core: plain JS, with no template literals in it (this is a TS template string). */
export const SCRIPT = String.raw`
const $ = (id) => document.getElementById(id);
const ENDED = new Set(["succeeded", "failed", "cancelled", "skipped"]);
const PIPELINE_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"];
const STATES = ["pending", "running", "succeeded", "failed", "skipped", "cancelled"];
const SVG_TAGS = new Set(["svg", "g", "rect", "path", "text", "title", "defs", "marker", "line"]);
const TOKEN_KEY = "pipelinin.token";
const state = { token: localStorage.getItem(TOKEN_KEY) || "", selected: null, record: null, job: null };

/** Builds an element; text children become text nodes, so user data is never parsed. */
function h(tag, attrs, ...kids) {
  const node = SVG_TAGS.has(tag)
    ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid !== undefined && kid !== null && kid !== false) node.append(kid instanceof Node ? kid : String(kid));
  }
  return node;
}
const pill = (status, text) => h("span", { class: "pill", "data-s": status }, text || status);
const short = (id) => (id.length > 13 ? id.slice(0, 8) + "…" : id);
const trunc = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
const json = (value) => JSON.stringify(value, null, 2);
function ms(n) {
  if (n === undefined || n === null) return "";
  if (n < 1000) return Math.round(n) + " ms";
  if (n < 60000) return (n / 1000).toFixed(n < 10000 ? 2 : 1) + " s";
  return Math.floor(n / 60000) + " min " + Math.round((n % 60000) / 1000) + " s";
}
function ago(t) {
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (!t) return "";
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  return new Date(t).toLocaleString();
}
const clock = (t) => (t ? new Date(t).toLocaleTimeString() : "");
function bytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + " " + units[i];
}
const jobTime = (job) => job.durationMs !== undefined ? job.durationMs
  : job.status === "running" && job.startedAt ? Date.now() - job.startedAt : undefined;
const pipelineLink = (id) => h("a", { class: "mono", href: "#/pipelines/" + encodeURIComponent(id), title: id }, short(id));

// ---- API and auth -------------------------------------------------------------
class AuthNeeded extends Error {}
async function api(path, init) {
  const headers = Object.assign(state.token ? { Authorization: "Bearer " + state.token } : {}, (init || {}).headers);
  const res = await fetch(path, Object.assign({}, init, { headers }));
  if (res.status === 401) { askToken(); throw new AuthNeeded("A token is required"); }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(body.error || res.status + " " + res.statusText), { status: res.status });
  return body;
}
const sse = (path) => new EventSource(state.token ? path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(state.token) : path);
function askToken() {
  if ($("auth")) return;
  const input = h("input", { type: "password", placeholder: "Token", autocomplete: "off", required: true });
  const form = h("form", { class: "card", onsubmit: (event) => {
    event.preventDefault();
    state.token = input.value.trim();
    localStorage.setItem(TOKEN_KEY, state.token);
    $("auth").remove();
    start();
  } }, h("strong", {}, "This Router wants a token"),
    h("span", { class: "muted small" }, state.token ? "The saved token was refused." : "Set by PIPELININ_TOKEN."),
    input, h("button", {}, "Continue"));
  document.body.append(h("div", { id: "auth" }, form));
  input.focus();
}

// ---- Event bus and registries ------------------------------------------------------
const bus = new EventTarget();
const on = (name, listener) => bus.addEventListener(name, (event) => listener(event.detail));
const emit = (name, detail) => bus.dispatchEvent(new CustomEvent(name, { detail }));
const byOrder = (a, b) => (a.order || 0) - (b.order || 0);
/** Where panels add themselves; each entry has an id and an order. */
const dashboard = {
  /** Buttons on a pipeline: { id, label, order, when(record), run(record, button) }. */
  actions: [],
  /** Parts of a pipeline's view: { id, order, live, render(record) -> Node }; live ones redraw each tick. */
  sections: [],
  /** Parts of a job's view: { id, order, render(record, job) -> Node }. */
  jobSections: [],
  /** Boxes in the side column: { id, title, order, refresh() -> Promise<Node> } (polled). */
  side: [],
  add(kind, entry) { this[kind].push(entry); this[kind].sort(byOrder); },
};
/** Shows a failed action's error in the page for a while. */
function notify(text, kind) {
  const note = h("div", { class: "note " + (kind || "err"), role: "status" }, text);
  $("notes").append(note);
  setTimeout(() => note.remove(), 6000);
}
`;

/** Starts the dashboard once every panel has registered: the last script of the page. */
export const BOOT = String.raw`
const route = () => {
  const match = /^#\/pipelines\/(.+)$/.exec(location.hash);
  const id = match ? decodeURIComponent(match[1]) : null;
  state.selected = id;
  emit("select", id);
};
async function refreshSide() {
  if ($("auth")) return;
  await Promise.all(dashboard.side.map(async (box) => {
    const body = document.querySelector('[data-side="' + box.id + '"] .body');
    if (!body) return;
    try {
      body.replaceChildren(...[await box.refresh()].flat(Infinity).filter(Boolean));
    } catch (error) {
      if (!(error instanceof AuthNeeded)) body.replaceChildren(h("p", { class: "muted small" }, error.message));
    }
  }));
}
function start() {
  api("/stats").then(() => { emit("start"); route(); emit("poll"); refreshSide(); },
    (error) => error instanceof AuthNeeded || setTimeout(start, 3000));
}
$("side").replaceChildren(...dashboard.side.map((box) =>
  h("section", { class: "card", "data-side": box.id }, h("h2", {}, box.title), h("div", { class: "body" }))));
addEventListener("hashchange", route);
setInterval(() => { if (!$("auth")) { emit("poll"); refreshSide(); } }, 2000);
setInterval(() => { if (state.record && !ENDED.has(state.record.status) && !$("auth")) emit("tick"); }, 1000);
start();
`;
