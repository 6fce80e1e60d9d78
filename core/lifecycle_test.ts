import { assertEquals } from "../tests/_assert.ts";
import { Lifecycle } from "./lifecycle.ts";

Deno.test("a lifecycle moves forward only, and a second stop is refused", () => {
  const life = new Lifecycle();
  assertEquals(life.state, "starting");
  assertEquals(life.running, false);
  life.started();
  assertEquals([life.state, life.running], ["running", true]);
  assertEquals(life.stopping(), true);
  assertEquals(life.stopping(), false);
  life.started();
  assertEquals(life.state, "stopping");
  life.stopped();
  assertEquals([life.state, life.stopping()], ["stopped", false]);
});
