/**
 * The dashboard in a real browser: headless Chromium (`_browser.ts`) opens the
 * Router's page while a pipeline runs,
 * sees the DAG change live, shows a failed job's error, and leaves screenshots in
 * `tests/artifacts/`.
 */
import { assert, assertEquals } from "./_assert.ts";
import { ARTIFACTS, Browser, hasChromium } from "./_browser.ts";
import { Cluster } from "./_cluster.ts";

async function submit(cluster: Cluster, pipeline: unknown): Promise<string> {
  const response = await fetch(`${cluster.http}/pipelines`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(pipeline),
  });
  const body = await response.json();
  assertEquals(response.status, 201, JSON.stringify(body));
  return body.id;
}

Deno.test({
  name: "dashboard draws a running pipeline's DAG live and a failed job's error in Chromium",
  ignore: !hasChromium(),
  async fn() {
    await using cluster = await Cluster.start({
      waitFor: ["ok", "slow", "tag", "nonretryable"],
    });
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const failing = await submit(cluster, {
      graph: { fetch: ["parse", "links"], parse: "save", links: "save" },
      jobs: { fetch: "ok", parse: "tag", links: "nonretryable", save: "ok" },
    });
    const running = await submit(cluster, { graph: { ok: ["slow"] }, data: { ms: 4000 } });
    const schedule = await fetch(`${cluster.http}/schedules`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "nightly", cron: "0 3 * * *", pipeline: { graph: { ok: [] } } }),
    });
    assertEquals(schedule.status, 201);
    await schedule.body?.cancel();

    await using browser = await Browser.launch(`${cluster.http}/#/pipelines/${running}`);
    const page = browser.page;
    const job = (id: string, status: string) =>
      `!!document.querySelector('#dag [data-job="${id}"][data-status="${status}"]')`;
    const listed = (id: string, status: string) =>
      `!!document.querySelector('[data-pipeline="${id}"][data-status="${status}"]')`;

    // `ok` has succeeded while `slow` still runs (4 s).
    await page.waitFor(job("ok", "succeeded"));
    await page.waitFor(listed(failing, "failed"));
    await page.screenshot(`${ARTIFACTS}dashboard.png`);
    await page.waitFor(`!!document.querySelector('#brokers .broker')`);
    // The schedule, with its next run.
    await page.waitFor(
      `document.querySelector('#schedules [data-schedule="nightly"]')?.innerText.includes("Next run")`,
    );

    // Then `slow` ends, and both the DAG and the list follow without a reload.
    await page.waitFor(`${job("slow", "succeeded")} && ${listed(running, "succeeded")}`);

    // The failed pipeline: its failed and skipped jobs, and the error of one on click.
    await page.evaluate(`location.hash = "#/pipelines/${failing}"`);
    await page.waitFor(`${job("links", "failed")} && ${job("save", "skipped")}`);
    await page.evaluate(
      `document.querySelector('#dag [data-job="links"]').dispatchEvent(new MouseEvent("click"))`,
    );
    await page.waitFor(`document.querySelector("pre.err")?.textContent.includes("never work")`);
    // The polled counts, brokers and jobs/s chart catch up too.
    await page.waitFor(`!document.getElementById("stats").innerText.includes("running")`);
    await page.waitFor(`document.querySelectorAll("#rate svg rect").length > 1`);
    assertEquals(
      await page.evaluate(`document.querySelectorAll("#dag [data-job]").length`),
      4,
    );
    await page.screenshot(`${ARTIFACTS}dashboard_failed_job.png`);
    assert((await Deno.stat(`${ARTIFACTS}dashboard.png`)).size > 10_000);
  },
});

Deno.test({
  name:
    "dashboard draws a map as one node with its item counts, a skipped job, and sends a waiting job's signal",
  ignore: !hasChromium(),
  async fn() {
    await using cluster = await Cluster.start({ waitFor: ["map_item", "tag"] });
    const id = await submit(cluster, {
      graph: { fetch: "approve", maybe: [], approve: "after" },
      jobs: {
        fetch: { fn: "map_item", map: "list" },
        maybe: { fn: "tag", when: { path: "go", op: "exists" } },
        approve: { wait: "approved" },
        after: "tag",
      },
      data: { list: [1, 2, 3] },
    });
    await using browser = await Browser.launch(`${cluster.http}/#/pipelines/${id}`);
    const page = browser.page;
    const node = (job: string, status: string) =>
      `document.querySelector('#dag [data-job="${job}"][data-status="${status}"]')`;
    await page.waitFor(`${node("fetch", "succeeded")}?.textContent.includes("3/3 items")`);
    await page.waitFor(`!!${node("maybe", "skipped")}`);
    await page.waitFor(`${node("approve", "waiting")}?.textContent.includes("waits for approved")`);
    await page.evaluate(`${node("approve", "waiting")}.dispatchEvent(new MouseEvent("click"))`);
    await page.waitFor(`!!document.querySelector('button[data-signal="approved"]')`);
    await page.evaluate(`document.querySelector('.signal textarea').value = '{"by": "ann"}'`);
    // The job's view is drawn again (its detail and logs arrive later): the draft stays.
    await page.evaluate(`${node("approve", "waiting")}.dispatchEvent(new MouseEvent("click"))`);
    await page.waitFor(
      `!document.querySelector('[data-job-view="approve"]')?.textContent.includes("Loading")`,
    );
    assertEquals(
      await page.evaluate(`document.querySelector('.signal textarea').value`),
      '{"by": "ann"}',
    );
    await page.evaluate(`document.querySelector('button[data-signal="approved"]').click()`);
    const result = await cluster.manager.wait(id, { timeoutMs: 30_000 });
    assertEquals([result.status, result.document.by], ["succeeded", "ann"]);
    await page.waitFor(`!!${node("after", "succeeded")}`);
  },
});
