import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { PREFETCH_TARGET_MS, Registry } from "./registry.ts";

function joined(prefetch: number) {
  const registry = new Registry();
  registry.addBroker({
    id: "b",
    address: new Uint8Array([98]),
    host: "h",
    pid: 1,
    slots: 2,
    prefetch,
    lastSeen: 0,
    since: 0,
  }, [{ name: "f", config: {} }]);
  return { registry, broker: registry.brokers.get("b")! };
}

Deno.test("a new broker is sent one queued job per slot until its jobs' length is known", () => {
  const { broker } = joined(32);
  assertEquals(broker.capacity, 2 * (1 + 1));
});

Deno.test("short jobs fill a broker's prefetch; long ones get none, so they spread over brokers", () => {
  const { registry, broker } = joined(32);
  for (let n = 0; n < 50; n++) registry.recordRun(broker, 0.1);
  assertEquals(broker.capacity, 2 * (1 + 32), "trivial jobs: the whole prefetch");
  for (let n = 0; n < 50; n++) registry.recordRun(broker, PREFETCH_TARGET_MS / 4);
  assertEquals(broker.capacity, 2 * (1 + 4), "about the target's worth of work per slot");
  for (let n = 0; n < 50; n++) registry.recordRun(broker, 5_000);
  assertEquals(broker.capacity, 2, "long jobs: one per slot");
});

Deno.test("a broker that asks for no prefetch gets only as many jobs as slots", () => {
  const { registry, broker } = joined(0);
  for (let n = 0; n < 50; n++) registry.recordRun(broker, 0.1);
  assertEquals(broker.capacity, 2);
  assertEquals(registry.pickBroker("f")?.id, "b");
});
