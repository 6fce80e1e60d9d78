/**
 * Per-function rates in the side column, from `/stats/functions` on each poll: for
 * each function, attempts per minute and the share that failed over the last five
 * minutes, jobs queued (and how long the oldest has waited) and running. A click
 * on a function filters the list by it.
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
const fnsOpen = { idle: false };
function renderFunctions(stats) {
  if (!stats.functions.length) return h("p", { class: "muted" }, "No functions served");
  const pct = (x) => (x === 0 ? "0" : x < 0.01 ? "<1" : Math.round(x * 100)) + "%";
  // Busy ones first, in a table; the idle ones by name below, so a long list stays short.
  const busy = stats.functions.filter((f) => f.perMinute || f.queued || f.running);
  const idle = stats.functions.filter((f) => !(f.perMinute || f.queued || f.running));
  const pick = (f) => h("a", { href: "#", title: f.brokers ? f.brokers + " brokers serve it" : "no broker serves it",
    onclick: (event) => { event.preventDefault(); setFilter({ fn: f.name }); } }, f.name);
  const table = !busy.length ? h("p", { class: "muted small" }, "No attempts in the last 5 minutes") : h("table", { id: "functions", class: "small" },
    h("thead", {}, h("tr", {}, h("th", {}, "Function"), h("th", { title: "attempts ended per minute (5 min)" }, "/min"),
      h("th", { title: "share of attempts that failed (5 min)" }, "fail"), h("th", { title: "jobs waiting for a slot" }, "queue"),
      h("th", { title: "attempts running" }, "run"))),
    h("tbody", {}, busy.map((f) => h("tr", { "data-function": f.name, "data-failure-rate": f.failureRate,
      "data-queued": f.queued, class: f.brokers ? "" : "unserved" },
      h("td", { class: "mono" }, pick(f)),
      h("td", {}, f.perMinute.toFixed(f.perMinute < 10 ? 1 : 0)),
      h("td", { class: f.failureRate > 0 ? "bad" : "" }, pct(f.failureRate)),
      h("td", { title: f.queued ? "oldest waits " + ms(f.oldestQueuedMs) : "" },
        f.queued, f.queued ? h("span", { class: "muted" }, " · " + ms(f.oldestQueuedMs)) : ""),
      h("td", {}, f.running)))));
  const rest = !idle.length ? "" : h("details", { class: "idle", open: fnsOpen.idle,
    ontoggle: (event) => { fnsOpen.idle = event.currentTarget.open; } },
    h("summary", { class: "small muted" }, idle.length + " idle"),
    h("p", { class: "small mono" }, idle.map((f, i) => [i ? ", " : "", pick(f)])));
  return h("div", {}, table, rest);
}
dashboard.add("side", { id: "functions", title: "Functions (last 5 min)", order: 10,
  refresh: async () => renderFunctions(await api("/stats/functions")) });
`;

const style = String.raw`
#functions { width: 100%; border-collapse: collapse; }
#functions th { text-align: left; font-weight: 600; color: var(--muted); padding: 2px 4px; }
#functions td { padding: 3px 4px; border-top: 1px solid var(--line); white-space: nowrap; }
#functions td:first-child { max-width: 120px; overflow: hidden; text-overflow: ellipsis; }
#functions a { color: var(--text); text-decoration: none; }
#functions a:hover { color: var(--accent); }
#functions .bad { color: var(--failed-b); font-weight: 600; }
#functions .unserved td { color: var(--muted); }
.idle summary { cursor: pointer; margin-top: 6px; }
.idle a { color: var(--muted); text-decoration: none; }
`;

/** Per-function rates. */
export const functionsPanel: Panel = { name: "functions", style, script };
