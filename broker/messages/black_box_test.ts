import { assertEquals } from "../../tests/_assert.ts";
import { BLACK_BOX_BYTES, encodeBlackBox, readBlackBox } from "./black_box.ts";

Deno.test("a black box reads back the job written last, or none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipelinin-box-" });
  const path = `${dir}/host-0`;
  try {
    const job = { fn: "f", pipelineId: "p", jobId: "a".repeat(200), attempt: 2 };
    await Deno.writeFile(path, encodeBlackBox(job));
    assertEquals(readBlackBox(path), job);
    // A shorter record over a longer one: the padding hides what the longer one left.
    const file = await Deno.open(path, { write: true });
    await file.write(encodeBlackBox({ fn: "g", pipelineId: "p", jobId: "b", attempt: 1 }));
    file.close();
    assertEquals(readBlackBox(path), { fn: "g", pipelineId: "p", jobId: "b", attempt: 1 });
    assertEquals(encodeBlackBox(undefined).length, BLACK_BOX_BYTES);
    await Deno.writeFile(path, encodeBlackBox(undefined));
    assertEquals(readBlackBox(path), undefined);
    await Deno.writeTextFile(path, '{"fn": "half');
    assertEquals(readBlackBox(path), undefined);
    assertEquals(readBlackBox(`${dir}/missing`), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
