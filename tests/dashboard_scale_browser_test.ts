/**
 * The dashboard stays readable at 1,000 live pipelines, in headless Chromium: the
 * list loads them a page at a time as it is scrolled and keeps only the rows in view
 * in the DOM, and a status filter narrows them to the running ones.
 */
import { assert, assertEquals } from "./_assert.ts";
import { ARTIFACTS, Browser, hasChromium } from "./_browser.ts";
import { Cluster } from "./_cluster.ts";

const LIVE = 1000;

async function submitMany(cluster: Cluster, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 50) {
    ids.push(
      ...await Promise.all(Array.from({ length: Math.min(50, n - i) }, async (_, j) => {
        const response = await fetch(`${cluster.http}/pipelines`, {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": `live-${i + j}` },
          body: JSON.stringify({ graph: { slow: [] }, data: { ms: 120_000 } }),
        });
        const body = await response.json();
        assertEquals(response.status, 201, JSON.stringify(body));
        return body.id as string;
      })),
    );
  }
  return ids;
}

/** Every pipeline's id, as `GET /pipelines` lists them: newest first. */
async function listedIds(cluster: Cluster): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const query = `limit=500${cursor ? `&cursor=${cursor}` : ""}`;
    const page: { pipelines: { id: string }[]; next?: string } =
      await (await fetch(`${cluster.http}/pipelines?${query}`)).json();
    ids.push(...page.pipelines.map((p) => p.id));
    cursor = page.next;
  } while (cursor);
  return ids;
}

Deno.test({
  name: "dashboard pages and virtualises a list of 1,000 live pipelines in Chromium",
  ignore: !hasChromium(),
  async fn() {
    await using cluster = await Cluster.start({ waitFor: ["slow"], workers: 2 });
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const ids = await submitMany(cluster, LIVE);
    await using browser = await Browser.launch(`${cluster.http}/`);
    const page = browser.page;
    const count = `Number(document.getElementById("pipelines")?.dataset.count || 0)`;
    const rendered = `document.querySelectorAll("#pipelines [data-pipeline]").length`;
    // Submitted 50 at a time, they reach the Router in any order within each 50: the
    // newest and the oldest are the API's first and last, not the last and first submitted.
    const listed = await listedIds(cluster);
    assertEquals(new Set(listed), new Set(ids));
    // The first page, newest first.
    await page.waitFor(`${count} === 200`);
    await page.waitFor(`!!document.querySelector('[data-pipeline="${listed[0]}"]')`);
    await page.screenshot(`${ARTIFACTS}dashboard_1000_top.png`);
    // Scrolled down, the next pages come in until all 1,000 are listed.
    const deadline = Date.now() + 60_000;
    while (await page.evaluate(count) !== LIVE) {
      assert(Date.now() < deadline, `listed ${await page.evaluate(count)} of ${LIVE}`);
      await page.evaluate(
        `(() => { const b = document.getElementById("plist"); b.scrollTop = b.scrollHeight; })()`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // The oldest is in view at the bottom, and only the rows in view are in the DOM.
    await page.evaluate(
      `(() => { const b = document.getElementById("plist"); b.scrollTop = b.scrollHeight; })()`,
    );
    await page.waitFor(`!!document.querySelector('[data-pipeline="${listed.at(-1)}"]')`);
    const inDom = Number(await page.evaluate(rendered));
    assert(inDom > 5 && inDom < 60, `${inDom} rows in the DOM`);
    assertEquals(
      await page.evaluate(`document.getElementById("pcount").textContent`),
      "1,000 pipelines",
    );
    await page.screenshot(`${ARTIFACTS}dashboard_1000_bottom.png`);

    // Filtered to the running ones: as many as the API says run.
    const running =
      (await (await fetch(`${cluster.http}/pipelines?status=running&limit=500`)).json())
        .pipelines.length;
    assert(running > 0 && running < LIVE, `${running} running`);
    await page.click('[data-filter-status="running"]');
    await page.waitFor(`${count} > 0 && ${count} < ${LIVE} && ${rendered} === ${count}`);
    assert(
      await page.evaluate(`[...document.querySelectorAll("#pipelines [data-pipeline]")]
        .every((li) => li.dataset.status === "running")`),
    );
    await page.screenshot(`${ARTIFACTS}dashboard_1000_running.png`);
    assertEquals(page.errors, []);
  },
});
