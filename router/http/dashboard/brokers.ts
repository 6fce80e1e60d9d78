/**
 * The brokers in the side column: each one's host, slots in use, CPU load, memory
 * and when it was last heard from, from `/brokers` on each poll.
 *
 * @module
 */
import type { Panel } from "./panel.ts";

const script = String.raw`
function renderBrokers(brokers) {
  if (!brokers.length) return h("p", { class: "muted" }, "No brokers connected");
  return h("div", { id: "brokers" }, ...brokers.map((b) =>
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
dashboard.add("side", { id: "brokers", title: "Brokers", order: 20,
  refresh: async () => renderBrokers((await api("/brokers")).brokers) });
`;

const style = String.raw`
.broker + .broker { margin-top: 12px; padding-top: 12px; border-top: 1px solid var(--line); }
.broker .stale { color: #b45309; }
`;

/** The brokers box. */
export const brokersPanel: Panel = { name: "brokers", style, script };
