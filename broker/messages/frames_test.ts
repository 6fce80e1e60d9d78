import { assertEquals } from "../../tests/_assert.ts";
import { concat, encodeFrame, pumpFrames, readFirstFrame } from "./frames.ts";

/** A stream of `chunks`, one read each. */
function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

Deno.test("the first frame comes alone; what was read after it goes to the pump, whole", async () => {
  const bytes = concat(encodeFrame({ n: 1 }), encodeFrame({ n: 2 }), encodeFrame({ n: 3 }));
  for (const cut of [1, 3, 5, 9, bytes.length - 2]) {
    const stream = streamOf(bytes.slice(0, cut), bytes.slice(cut));
    const { value, rest } = await readFirstFrame(stream);
    const after: unknown[] = [];
    await pumpFrames(stream, (frame) => after.push(frame), rest);
    assertEquals([value, ...after], [{ n: 1 }, { n: 2 }, { n: 3 }], `cut at ${cut}`);
  }
});

Deno.test("a stream that ends before its first frame, or starts with garbage, is refused", async () => {
  for (const bytes of [new Uint8Array([0, 0]), new Uint8Array([0xff, 0xff, 0xff, 0xff, 1])]) {
    let error: unknown;
    try {
      await readFirstFrame(streamOf(bytes));
    } catch (e) {
      error = e;
    }
    assertEquals(error instanceof TypeError, true, String(error));
  }
});
