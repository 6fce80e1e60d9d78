import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { TurnBatch } from "./turn_batch.ts";

Deno.test("a turn's items are flushed together, the next turn's apart", async () => {
  const flushed: number[][] = [];
  const batch = new TurnBatch<number>((items) => void flushed.push(items));
  await Promise.all([batch.add(1), batch.add(2), batch.add(3)]);
  await batch.add(4);
  assertEquals(flushed, [[1, 2, 3], [4]]);
});

Deno.test("a failed flush rejects every add of its turn; flushNow hands over at once", async () => {
  const failing = new TurnBatch<number>(() => Promise.reject(new Error("disk full")));
  const adds = [failing.add(1), failing.add(2)];
  for (const add of adds) await assertRejects(add, /disk full/);
  const flushed: number[][] = [];
  const batch = new TurnBatch<number>((items) => void flushed.push(items));
  const added = batch.add(7);
  await batch.flushNow();
  assertEquals(flushed, [[7]]);
  await added;
  await Promise.resolve();
  assertEquals(flushed, [[7]], "the end of the turn flushes nothing again");
});
