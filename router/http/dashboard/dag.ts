/**
 * The DAG of the selected pipeline in SVG: jobs in layers by longest path from a
 * root, each coloured by its state, with its time and attempts; a click chooses a
 * job (`job` event). It redraws each second while the pipeline runs.
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
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
      transform: "translate(" + p.x + "," + p.y + ")", onclick: () => { state.job = id; emit("job", id); } },
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
dashboard.add("sections", { id: "dag", order: 10, live: true, render: (r) => [
  h("div", { class: "dagbox", id: "dagbox" }, renderDag(r)),
  h("div", { class: "legend" }, STATES.map((s) => pill(s)))] });
`;

const style = String.raw`
.dagbox { overflow: auto; border: 1px solid var(--line); border-radius: 8px; background:
  radial-gradient(circle, #e6e9ee 1px, transparent 1px) 0 0 / 16px 16px, #fcfcfd; padding: 8px; }
#dag { display: block; margin: auto; max-width: 100%; height: auto; }
#dag .edge { fill: none; stroke: #9aa3b0; stroke-width: 1.5; }
#dag .node { cursor: pointer; }
#dag .node rect { fill: var(--pending); stroke: var(--pending-b); stroke-width: 1.5; }
#dag .node.sel rect { stroke-width: 3; }
#dag .node text { font-size: 12px; fill: var(--muted); }
#dag .node text.id { font-size: 13px; font-weight: 600; fill: var(--text); }
#dag [data-status=running] rect { fill: var(--running); stroke: var(--running-b); animation: pulse 1.2s infinite; }
#dag [data-status=succeeded] rect { fill: var(--succeeded); stroke: var(--succeeded-b); }
#dag [data-status=failed] rect { fill: var(--failed); stroke: var(--failed-b); }
#dag [data-status=skipped] rect { fill: var(--skipped); stroke: var(--skipped-b); stroke-dasharray: 4 3; }
#dag [data-status=skipped] text { fill: #9ca3af; }
#dag [data-status=cancelled] rect { fill: var(--cancelled); stroke: var(--cancelled-b); }
#dag [data-status=waiting] rect { fill: var(--waiting); stroke: var(--waiting-b); stroke-dasharray: 6 3; }
@keyframes pulse { 50% { stroke-opacity: .35; } }
.legend { display: flex; gap: 6px; flex-wrap: wrap; margin: 8px 0 0; }
`;

/** The DAG section. */
export const dagPanel: Panel = { name: "dag", style, script };
