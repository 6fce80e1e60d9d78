/**
 * The dashboard's browser script, inlined into its page. It builds every node with
 * `textContent`/`setAttribute`, so ids, errors and outputs are never parsed as HTML.
 *
 * @module
 */

/** The script: plain JS, with no template literals in it (this is a TS template string). */
export const SCRIPT = String.raw`
const $ = (id) => document.getElementById(id);
const ENDED = new Set(["succeeded", "failed", "cancelled", "skipped"]);
const STATES = ["pending", "running", "succeeded", "failed", "skipped", "cancelled"];
const SVG_TAGS = new Set(["svg", "g", "rect", "path", "text", "title", "defs", "marker"]);
const TOKEN_KEY = "pipelinin.token";
const state = { token: localStorage.getItem(TOKEN_KEY) || "", pipelines: new Map(), next: undefined,
  shown: 50, selected: null, record: null, job: null, feed: null, follow: null, listTimer: 0, pollTimer: 0 };

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
function bytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + " " + units[i];
}
const jobTime = (job) => job.durationMs !== undefined ? job.durationMs
  : job.status === "running" && job.startedAt ? Date.now() - job.startedAt : undefined;

// ---- API and auth -------------------------------------------------------------
class AuthNeeded extends Error {}
async function api(path) {
  const headers = state.token ? { Authorization: "Bearer " + state.token } : {};
  const res = await fetch(path, { headers });
  if (res.status === 401) { askToken(); throw new AuthNeeded("A token is required"); }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || res.status + " " + res.statusText);
  return body;
}
const sse = (path) => new EventSource(state.token ? path + "?token=" + encodeURIComponent(state.token) : path);
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

// ---- Pipelines list ---------------------------------------------------------------
function upsert(p) {
  const old = state.pipelines.get(p.id);
  state.pipelines.set(p.id, old ? Object.assign(old, p) : p);
}
function scheduleList() {
  if (!state.listTimer) state.listTimer = setTimeout(() => { state.listTimer = 0; renderList(); }, 100);
}
function progress(jobs) {
  const count = (s) => jobs.filter((j) => j.status === s).length;
  const total = jobs.length || 1;
  return h("div", { class: "bar" }, ["succeeded", "failed", "cancelled", "skipped", "running"].map((s) =>
    h("span", { "data-s": s, style: "width:" + (100 * count(s) / total) + "%;border:0" })));
}
function renderList() {
  const all = [...state.pipelines.values()].sort((a, b) => b.createdAt - a.createdAt);
  for (const p of all.slice(Math.max(state.shown, 500))) { // A busy feed must not grow without end.
    if (p.id !== state.selected) state.pipelines.delete(p.id);
  }
  const items = all.slice(0, state.shown).map((p) => {
    const done = p.jobs.filter((j) => ENDED.has(j.status)).length;
    return h("li", { "data-pipeline": p.id, "data-status": p.status, class: p.id === state.selected ? "sel" : "",
      onclick: () => { location.hash = "#/pipelines/" + encodeURIComponent(p.id); } },
      h("div", { class: "row" }, pill(p.status), h("span", { class: "mono grow", title: p.id }, short(p.id)),
        h("span", { class: "muted small" }, ago(p.createdAt))),
      progress(p.jobs),
      h("div", { class: "row small muted" }, h("span", { class: "grow" }, p.jobs.map((j) => j.jobId).join(", ")),
        h("span", {}, done + "/" + p.jobs.length + " jobs"), p.durationMs !== undefined ? h("span", {}, ms(p.durationMs)) : ""));
  });
  $("pipelines").replaceChildren(...(items.length ? items : [h("li", { class: "muted" }, "No pipelines yet")]));
  $("more").hidden = !state.next && all.length <= state.shown;
}
async function loadPipelines(cursor) {
  const page = await api("/pipelines?limit=50" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
  page.pipelines.forEach(upsert);
  state.next = page.next;
  renderList();
}
function openFeed() {
  state.feed?.close();
  let opened = false;
  const feed = state.feed = sse("/events");
  feed.onopen = () => { if (opened) loadPipelines().catch(() => {}); opened = true; };
  feed.addEventListener("pipeline", (event) => {
    const p = JSON.parse(event.data), was = state.pipelines.get(p.id)?.status;
    upsert(p);
    scheduleList();
    if (was !== p.status && !state.pollTimer) state.pollTimer = setTimeout(poll, 300); // Counts and slots moved.
  });
  feed.onerror = () => {
    if (feed.readyState !== EventSource.CLOSED || state.feed !== feed) return;
    const retry = () => setTimeout(() => state.feed === feed && openFeed(), 3000);
    api("/stats").then(retry, (error) => error instanceof AuthNeeded || retry());
  };
}

// ---- One pipeline: DAG and job -------------------------------------------------
/** Layers by longest path from a root; within a layer, ordered by the parents' mean row. */
function layout(spec, jobs) {
  const children = new Map(), parents = new Map(), ids = [];
  const add = (id) => { if (!children.has(id)) { children.set(id, []); parents.set(id, []); ids.push(id); } };
  for (const [from, to] of Object.entries(spec.graph || {})) {
    add(from);
    for (const child of [].concat(to)) { add(child); children.get(from).push(child); parents.get(child).push(from); }
  }
  jobs.forEach((j) => add(j.jobId));
  const waiting = new Map(ids.map((id) => [id, parents.get(id).length]));
  const layer = new Map(ids.map((id) => [id, 0]));
  const queue = ids.filter((id) => waiting.get(id) === 0);
  while (queue.length) {
    const id = queue.shift();
    for (const child of children.get(id)) {
      layer.set(child, Math.max(layer.get(child), layer.get(id) + 1));
      waiting.set(child, waiting.get(child) - 1);
      if (waiting.get(child) === 0) queue.push(child);
    }
  }
  const columns = [], row = new Map();
  ids.forEach((id) => (columns[layer.get(id)] ||= []).push(id));
  const mean = (id) => parents.get(id).reduce((sum, p) => sum + row.get(p), 0) / (parents.get(id).length || 1);
  columns.forEach((column, i) => {
    if (i > 0) column.sort((a, b) => mean(a) - mean(b));
    column.forEach((id, r) => row.set(id, r));
  });
  return { columns, children };
}
function renderDag(record) {
  const W = 164, H = 58, GX = 64, GY = 22, PAD = 10;
  const { columns, children } = layout(record.spec, record.jobs);
  const jobs = new Map(record.jobs.map((j) => [j.jobId, j]));
  const rows = Math.max(...columns.map((c) => c.length));
  const pos = new Map();
  columns.forEach((column, x) => column.forEach((id, y) => pos.set(id, {
    x: PAD + x * (W + GX), y: PAD + y * (H + GY) + (rows - column.length) * (H + GY) / 2 })));
  const width = PAD * 2 + columns.length * W + (columns.length - 1) * GX;
  const height = PAD * 2 + rows * H + (rows - 1) * GY;
  const edges = [];
  for (const [from, tos] of children) for (const to of tos) {
    const a = pos.get(from), b = pos.get(to), x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x - 3, y2 = b.y + H / 2;
    edges.push(h("path", { class: "edge", "marker-end": "url(#arrow)",
      d: "M" + x1 + "," + y1 + " C" + (x1 + GX / 2) + "," + y1 + " " + (x2 - GX / 2) + "," + y2 + " " + x2 + "," + y2 }));
  }
  const nodes = [...pos].map(([id, p]) => {
    const entry = (record.spec.jobs || {})[id];
    const job = jobs.get(id) || { jobId: id, fn: typeof entry === "string" ? entry : (entry && entry.fn) || id,
      status: "pending", attempts: 0 };
    const meta = job.map ? mapCounts(job.map)
      : job.status === "waiting" ? "waits for " + job.signal
      : [ms(jobTime(job)), job.attempts > 1 ? job.attempts + " attempts" : ""].filter(Boolean).join(" · ");
    const fn = job.fn !== id ? job.fn : "";
    return h("g", { class: "node" + (state.job === id ? " sel" : ""), "data-job": id, "data-status": job.status,
      transform: "translate(" + p.x + "," + p.y + ")", onclick: () => { state.job = id; renderRecord(false); } },
      h("title", {}, id + (fn ? " (" + fn + ")" : "") + ": " + job.status),
      h("rect", { width: W, height: H, rx: 9 }),
      h("text", { class: "id", x: 12, y: fn ? 19 : 24 }, trunc(id, 20)),
      fn ? h("text", { x: 12, y: 34 }, "ƒ " + trunc(fn, 20)) : "",
      h("text", { x: 12, y: fn ? 49 : 42 }, meta || job.status));
  });
  return h("svg", { id: "dag", xmlns: "http://www.w3.org/2000/svg", width, height, viewBox: "0 0 " + width + " " + height },
    h("defs", {}, h("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
      orient: "auto-start-reverse" }, h("path", { d: "M0,0 L10,5 L0,10 z", fill: "#9aa3b0" }))),
    edges, nodes);
}
/** A map job's items by state, as one node shows them. */
function mapCounts(m) {
  return [m.succeeded + "/" + m.items + " items", m.running ? m.running + " running" : "",
    m.failed ? m.failed + " failed" : "", m.cancelled ? m.cancelled + " cancelled" : ""].filter(Boolean).join(" · ");
}
/** The form that sends a waiting job's signal, with a JSON object as its output. */
function signalForm(record, job) {
  const input = h("textarea", { rows: 2, class: "mono", "aria-label": "Signal object" }, "{}");
  const note = h("span", { class: "muted small" });
  const send = async () => {
    let body;
    try { body = JSON.parse(input.value); } catch { note.textContent = "Not JSON"; return; }
    const headers = { "content-type": "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const res = await fetch("/pipelines/" + encodeURIComponent(record.id) + "/signals/" +
      encodeURIComponent(job.signal), { method: "POST", headers, body: JSON.stringify(body) });
    const answer = await res.json().catch(() => ({}));
    note.textContent = res.ok ? "Sent" : answer.error || res.status + " " + res.statusText;
  };
  return h("div", { class: "signal" }, input,
    h("button", { type: "button", "data-signal": job.signal, onclick: send }, "Send signal “" + job.signal + "”"), note);
}
function errorBlock(error) {
  return [h("strong", {}, (error.name || "Error") + ": " + error.message),
    h("pre", { class: "err" }, error.stack || error.message)];
}
function renderJob(record) {
  const job = record.jobs.find((j) => j.jobId === state.job);
  if (!job) {
    return h("div", { class: "job" }, h("p", { class: "muted small" }, "Click a job for its error and output."),
      h("details", {}, h("summary", {}, "Document"), h("pre", {}, JSON.stringify(record.document, null, 2))));
  }
  const attempts = job.attemptErrors || [];
  return h("div", { class: "job" },
    h("h3", {}, h("span", { class: "mono" }, job.jobId), " ", pill(job.status)),
    h("dl", {}, h("dt", {}, "Function"), h("dd", { class: "mono" }, job.fn),
      h("dt", {}, "Attempts"), h("dd", {}, job.attempts),
      job.map ? [h("dt", {}, "Items"), h("dd", {}, mapCounts(job.map))] : "",
      job.broker ? [h("dt", {}, "Broker"), h("dd", { class: "mono" }, job.broker)] : "",
      jobTime(job) !== undefined ? [h("dt", {}, "Duration"), h("dd", {}, ms(jobTime(job)))] : ""),
    job.status === "waiting" ? signalForm(record, job) : "",
    job.error ? errorBlock(job.error) : "",
    attempts.length > 1 ? h("details", {}, h("summary", {}, "Errors of all " + attempts.length + " attempts"),
      attempts.map(errorBlock)) : "",
    job.output !== undefined ? [h("strong", {}, "Output"), h("pre", {}, JSON.stringify(job.output, null, 2))] : "");
}
/** Draws the selected pipeline; only its DAG on the clock tick, so open details and selections stay. */
function renderRecord(dagOnly) {
  const r = state.record;
  if (!r) return;
  if (dagOnly && $("dagbox")) return $("dagbox").replaceChildren(renderDag(r));
  const open = [...$("detail").querySelectorAll("details")].map((d) => d.open);
  $("detail").replaceChildren(h("div", { class: "card" },
    h("div", { class: "head" }, h("span", { class: "mono" }, r.id), pill(r.status),
      h("span", { class: "muted small" }, "created " + ago(r.createdAt)),
      r.durationMs !== undefined ? h("span", { class: "muted small" }, "took " + ms(r.durationMs)) : ""),
    r.error ? h("p", { class: "perr" }, (r.error.name || "Error") + ": " + r.error.message) : "",
    h("div", { class: "dagbox", id: "dagbox" }, renderDag(r)),
    h("div", { class: "legend" }, STATES.map((s) => pill(s))),
    renderJob(r)));
  $("detail").querySelectorAll("details").forEach((d, i) => { d.open = open[i] || false; });
}
function show(record) {
  if (record.id !== state.selected) return;
  state.record = record;
  const { spec: _spec, document: _document, jobs, ...rest } = record;
  upsert({ ...rest, jobs: jobs.map(({ jobId, fn, status }) => ({ jobId, fn, status })) });
  scheduleList();
  renderRecord(false);
}
async function select(id) {
  state.follow?.close();
  state.follow = null;
  state.selected = id;
  state.record = null;
  state.job = null;
  renderList();
  if (!id) return $("detail").replaceChildren(h("div", { class: "card muted" }, "Select a pipeline to see its DAG."));
  $("detail").replaceChildren(h("div", { class: "card muted" }, "Loading " + id + "…"));
  try {
    const record = await api("/pipelines/" + encodeURIComponent(id));
    if (state.selected !== id) return;
    show(record);
  } catch (error) {
    if (!(error instanceof AuthNeeded) && state.selected === id) {
      $("detail").replaceChildren(h("div", { class: "card" }, h("strong", {}, "Cannot load " + id + ": "), error.message));
    }
    return;
  }
  if (ENDED.has(state.record.status)) return;
  const follow = state.follow = sse("/pipelines/" + encodeURIComponent(id) + "/events");
  const onRecord = (event) => {
    const record = JSON.parse(event.data);
    show(record);
    if (ENDED.has(record.status)) follow.close(); // The stream ends; do not let EventSource reconnect.
  };
  follow.addEventListener("snapshot", onRecord);
  follow.addEventListener("pipeline", onRecord);
}
const route = () => {
  const match = /^#\/pipelines\/(.+)$/.exec(location.hash);
  select(match ? decodeURIComponent(match[1]) : null);
};

// ---- Brokers and stats ------------------------------------------------------------
function renderBrokers(brokers) {
  if (!brokers.length) return $("brokers").replaceChildren(h("p", { class: "muted" }, "No brokers connected"));
  $("brokers").replaceChildren(...brokers.map((b) =>
    h("div", { class: "broker" },
      h("div", { class: "row" }, h("span", { class: "mono grow", title: b.id }, b.id)),
      h("div", { class: "muted small" }, b.host + " · pid " + b.pid + " · " + b.functions.length + " functions"),
      h("div", { class: "bar" }, h("span", { "data-s": "running", style: "border:0;width:" + (100 * b.busy / (b.slots || 1)) + "%" })),
      h("dl", { class: "small" }, h("dt", {}, "Slots"), h("dd", {}, b.busy + " busy of " + b.slots),
        b.load ? [h("dt", {}, "CPU load"), h("dd", {}, b.load.loadavg.toFixed(2) + " on " + b.load.cpus + " CPUs"),
          h("dt", {}, "Memory"), h("dd", {}, bytes(b.load.memoryUsed) + " of " + bytes(b.load.memoryTotal)),
          h("dt", {}, "RSS"), h("dd", {}, bytes(b.load.rss))] : "",
        h("dt", {}, "Last heard"), h("dd", { class: Date.now() - b.lastSeen > 5000 ? "stale" : "" }, ago(b.lastSeen))))));
}
function until(t) {
  const s = Math.max(0, Math.round((t - Date.now()) / 1000));
  if (s < 60) return "in " + s + " s";
  if (s < 3600) return "in " + Math.floor(s / 60) + " min";
  return new Date(t).toLocaleString();
}
function renderSchedules(schedules) {
  if (!schedules.length) return $("schedules").replaceChildren(h("p", { class: "muted" }, "No schedules"));
  const OUTCOME = { started: "succeeded", skipped: "skipped", failed: "failed" };
  $("schedules").replaceChildren(...schedules.map((s) =>
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
function renderStats(stats) {
  $("stats").replaceChildren(...Object.entries(stats.pipelines).filter(([, n]) => n > 0)
    .map(([s, n]) => pill(s, n + " " + s)),
    pill("queued", stats.queueDepth + " jobs queued"),
    pill("queued", stats.brokers + (stats.brokers === 1 ? " broker" : " brokers")));
  const rates = stats.jobsPerSecond, W = 240, H = 34, peak = Math.max(0, ...rates.map((r) => r.rate));
  const max = Math.max(1, peak);
  const bw = W / Math.max(1, rates.length);
  const last = rates.length > 1 ? rates[rates.length - 2].rate : 0; // The newest bucket is still filling.
  $("rate").replaceChildren(h("span", {}, h("b", {}, last.toFixed(1)), " jobs/s"),
    h("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, "aria-label": "jobs per second" },
      h("rect", { width: W, height: H, fill: "#f7f8fa", rx: 4 }),
      rates.map((r, i) => h("rect", { x: i * bw, y: H - (H - 2) * r.rate / max, width: Math.max(1, bw - 0.5),
        height: (H - 2) * r.rate / max, fill: "#3b82f6" },
        h("title", {}, new Date(r.at).toLocaleTimeString() + ": " + r.rate.toFixed(1) + " jobs/s")))),
    h("span", {}, "peak " + peak.toFixed(1), h("br"), "last 10 min"));
}
function renderLimits(limits) {
  if (!limits || !limits.length) return $("limits").replaceChildren(h("p", { class: "muted" }, "No function has a limit"));
  $("limits").replaceChildren(...limits.map((l) =>
    h("div", { class: "broker" },
      h("div", { class: "row" }, h("span", { class: "mono grow" }, l.fn)),
      h("dl", { class: "small" },
        l.concurrency !== undefined ? [h("dt", {}, "Concurrency"),
          h("dd", {}, l.running + " running of " + l.concurrency + (l.concurrencyKey ? " per " + l.concurrencyKey + " (" + l.keys + " keys)" : ""))] : "",
        l.rateLimit ? [h("dt", {}, "Rate"), h("dd", {}, l.rateLimit.max + " per " + l.rateLimit.perMs + " ms")] : "",
        h("dt", {}, "Waiting"), h("dd", {}, l.waiting + " held of " + l.queued + " queued")))));
}
async function poll() {
  clearTimeout(state.pollTimer);
  state.pollTimer = 0;
  if ($("auth")) return;
  const [brokers, stats, schedules] = await Promise.all([api("/brokers"), api("/stats"), api("/schedules")])
    .catch(() => []);
  if (brokers) renderBrokers(brokers.brokers);
  if (schedules) renderSchedules(schedules.schedules);
  if (stats) {
    renderStats(stats);
    renderLimits(stats.limits);
  }
  scheduleList(); // Refreshes the relative times.
}

function start() {
  loadPipelines().then(() => { openFeed(); poll(); route(); },
    (error) => error instanceof AuthNeeded || setTimeout(start, 3000));
}
$("more").onclick = () => { state.shown += 50; if (state.next) loadPipelines(state.next); else renderList(); };
addEventListener("hashchange", route);
setInterval(poll, 2000);
setInterval(() => { if (state.record && !ENDED.has(state.record.status) && !$("auth")) renderRecord(true); }, 1000);
start();
`;
