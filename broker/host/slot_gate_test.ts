import { assertEquals } from "../../tests/_assert.ts";
import { type GateMember, SlotGate } from "./slot_gate.ts";

function member(): GateMember & { running: boolean; woken: number } {
  const m = {
    running: false,
    woken: 0,
    busy: () => m.running,
    wake: () => void m.woken++,
  };
  return m;
}

Deno.test("a run marked alone waits for the other slots, holds them while it runs, then lets them go", () => {
  const gate = new SlotGate();
  const [a, b] = [member(), member()];
  gate.join(a);
  gate.join(b);
  assertEquals([gate.mayStart(a, false), gate.mayStart(b, false)], [true, true], "no holder");
  b.running = true;
  assertEquals(gate.mayStart(a, true), false, "b still runs");
  assertEquals(gate.mayStart(b, false), false, "a holds: b starts nothing new");
  b.running = false;
  gate.changed();
  assertEquals(a.woken, 1, "the holder looks again when a run ends");
  assertEquals(gate.mayStart(a, true), true, "alone now");
  a.running = true;
  assertEquals(gate.mayStart(a, false), true, "the holder's own later runs may start");
  gate.release(a);
  assertEquals(b.woken, 1, "released: the others look again");
  assertEquals(gate.mayStart(b, false), true);
  assertEquals(gate.holds(a), false);
});

Deno.test("a slot alone in its host is never held back", () => {
  const gate = new SlotGate();
  const a = member();
  gate.join(a);
  a.running = true;
  assertEquals(gate.mayStart(a, true), true);
});
