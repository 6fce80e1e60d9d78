/**
 * The header's counts (pipelines by status, jobs queued, brokers) and its
 * jobs-per-second chart over the last 10 minutes, from `/stats` on each poll.
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
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
let statsTimer = 0;
const loadStats = () => api("/stats").then(renderStats, () => {});
on("poll", loadStats);
// Counts move when a pipeline changes status: read them soon, at most every 300 ms.
on("pipeline-changed", () => { if (!statsTimer) statsTimer = setTimeout(() => { statsTimer = 0; loadStats(); }, 300); });
`;

const style = String.raw`
#stats { display: flex; gap: 6px; flex-wrap: wrap; flex: 1; }
#rate { display: flex; align-items: center; gap: 10px; color: var(--muted); font-size: 12px; line-height: 1.2; }
#rate b { color: var(--text); font-size: 15px; }
`;

/** The header's counts and throughput chart. */
export const throughputPanel: Panel = { name: "throughput", style, script };
