/**
 * The functions' limits in the side column: each limited function's concurrency
 * (per key, when keyed), its rate limit, and how many of its queued jobs wait on a
 * limit, from `/stats` on each poll.
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
function renderLimits(limits) {
  if (!limits || !limits.length) return h("p", { id: "limits", class: "muted" }, "No function has a limit");
  return h("div", { id: "limits" }, ...limits.map((l) =>
    h("div", { class: "broker" },
      h("div", { class: "row" }, h("span", { class: "mono grow" }, l.fn)),
      h("dl", { class: "small" },
        l.concurrency !== undefined ? [h("dt", {}, "Concurrency"),
          h("dd", {}, l.running + " running of " + l.concurrency + (l.concurrencyKey ? " per " + l.concurrencyKey + " (" + l.keys + " keys)" : ""))] : "",
        l.rateLimit ? [h("dt", {}, "Rate"), h("dd", {}, l.rateLimit.max + " per " + l.rateLimit.perMs + " ms")] : "",
        h("dt", {}, "Waiting"), h("dd", {}, l.waiting + " held of " + l.queued + " queued")))));
}
dashboard.add("side", { id: "limits", title: "Limits", order: 30,
  refresh: async () => renderLimits((await api("/stats")).limits) });
`;

/** The limits box. */
export const limitsPanel: Panel = { name: "limits", style: "", script };
