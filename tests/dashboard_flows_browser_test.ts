/**
 * Working from the dashboard in headless Chromium: filter the list by status,
 * function and time, search by idempotency key; read a job's attempts, error,
 * input and output and the pipeline's timeline; retry a failed pipeline and follow
 * the links between the two; cancel a running one; see per-function failure rates.
 * Screenshots go to `tests/artifacts/`.
 */
import { assert, assertEquals } from "./_assert.ts";
import { ARTIFACTS, Browser, hasChromium } from "./_browser.ts";
import { Cluster } from "./_cluster.ts";

async function submit(cluster: Cluster, spec: unknown, key?: string): Promise<string> {
  const response = await fetch(`${cluster.http}/pipelines`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
    body: JSON.stringify(spec),
  });
  const body = await response.json();
  assertEquals(response.status, 201, JSON.stringify(body));
  return body.id;
}

async function ended(cluster: Cluster, id: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (true) {
    const { status } = await (await fetch(`${cluster.http}/pipelines/${id}`)).json();
    if (["succeeded", "failed", "cancelled"].includes(status)) return;
    assert(Date.now() < deadline, `pipeline ${id} did not end`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The ids the list shows, top to bottom. */
const shown =
  `[...document.querySelectorAll("#pipelines [data-pipeline]")].map((li) => li.dataset.pipeline)`;
const showsOnly = (...ids: string[]) =>
  `JSON.stringify(${shown}) === ${JSON.stringify(JSON.stringify(ids))}`;

Deno.test({
  name:
    "dashboard filters, searches, shows a job's attempts, input, output and timeline, retries and cancels in Chromium",
  ignore: !hasChromium(),
  async fn() {
    await using cluster = await Cluster.start({ waitFor: ["ok", "tag", "slow", "nonretryable"] });
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const failing = await submit(cluster, {
      graph: { prepare: "check" },
      jobs: { prepare: "ok", check: "nonretryable" },
      data: { n: 41 },
    }, "order-77");
    const fine = await submit(cluster, { graph: { ok: "tag" } });
    await Promise.all([ended(cluster, failing), ended(cluster, fine)]);
    const afterTwo = new Date(Date.now() + 1000);
    const running = await submit(cluster, { graph: { slow: [] }, data: { ms: 60_000 } });

    await using browser = await Browser.launch(`${cluster.http}/`);
    const page = browser.page;
    await page.waitFor(showsOnly(running, fine, failing));

    // Status: only the failed one; then failed or running.
    await page.click('[data-filter-status="failed"]');
    await page.waitFor(showsOnly(failing));
    await page.click('[data-filter-status="running"]');
    await page.waitFor(showsOnly(running, failing));
    await page.click("#filter-clear");
    // Function: only the pipeline with a `tag` job.
    await page.waitFor(`!!document.querySelector('#filter-fn option[value="tag"]')`);
    await page.fill("#filter-fn", "tag");
    await page.waitFor(showsOnly(fine));
    assert(String(await page.evaluate("location.search")).includes("fn=tag"));
    await page.click("#filter-clear");
    // Time: nothing was created before the first submit; the two first before `afterTwo`.
    await page.fill("#filter-range", "custom");
    await page.waitFor(`!!document.getElementById("filter-until")`);
    const local = (d: Date) =>
      new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    const offset = await page.evaluate("new Date().getTimezoneOffset()");
    assertEquals(offset, afterTwo.getTimezoneOffset(), "the browser and Deno share a time zone");
    await page.fill("#filter-until", local(new Date(afterTwo.getTime() - 3_600_000)));
    await page.waitFor(
      `${shown}.length === 0 && document.getElementById("pempty").textContent.includes("match")`,
    );
    await page.click("#filter-clear");
    // Search: the idempotency key finds its pipeline.
    await page.fill("#filter-q", "order-77");
    await page.waitFor(showsOnly(failing));
    await page.screenshot(`${ARTIFACTS}dashboard_search.png`);

    // The failed pipeline: its timeline with hosts, and the failed job's attempt, input and error.
    await page.click(`[data-pipeline="${failing}"]`);
    await page.waitFor(`document.querySelectorAll("#timeline [data-timeline-job]").length === 2`);
    const hosts = await page.evaluate(
      `[...document.querySelectorAll("#timeline [data-timeline-job]")].map((g) => g.dataset.host)`,
    ) as string[];
    assert(hosts.every((host) => host.length > 0), JSON.stringify(hosts));
    await page.click('#timeline [data-timeline-job="check"]');
    await page.waitFor(
      `document.querySelector('[data-attempt-error="1"]')?.textContent.includes("never work")`,
    );
    await page.waitFor(`document.getElementById("job-input")?.textContent.includes('"n": 42')`);
    assertEquals(await page.evaluate(`document.getElementById("job-attempts").textContent`), "1");
    await page.click('#dag [data-job="prepare"]');
    await page.waitFor(`document.getElementById("job-output")?.textContent.includes('"n": 42')`);
    await page.waitFor(`document.getElementById("job-input")?.textContent.includes('"n": 41')`);
    await page.screenshot(`${ARTIFACTS}dashboard_job.png`);

    // Retry: a new pipeline, shown at once, linked to the old one both ways.
    await page.click('[data-action="retry"]');
    await page.waitFor(
      `location.hash !== "#/pipelines/${failing}" && !!document.getElementById("retry-of")`,
    );
    const retry = String(await page.evaluate(`document.getElementById("pipeline-id").textContent`));
    assert(retry !== failing);
    await page.waitFor(
      `document.querySelector("#retry-of a").getAttribute("href") === "#/pipelines/${failing}"`,
    );
    await page.waitFor(`document.querySelector("#detail .head .pill").textContent === "failed"`);
    await page.click("#retry-of a");
    await page.waitFor(
      `document.querySelector("#retried-by a")?.getAttribute("href") === "#/pipelines/${retry}"`,
    );
    await page.screenshot(`${ARTIFACTS}dashboard_retried.png`);

    // Cancel: asked twice, then the running pipeline is cancelled.
    await page.click("#filter-clear");
    await page.evaluate(`location.hash = "#/pipelines/${running}"`);
    await page.waitFor(`!!document.querySelector('[data-action="cancel"]')`);
    await page.click('[data-action="cancel"]');
    await page.waitFor(`!!document.querySelector('[data-action="cancel"][data-armed]')`);
    await page.click('[data-action="cancel"]');
    await page.waitFor(`document.querySelector("#detail .head .pill").textContent === "cancelled"`);
    await page.waitFor(
      `!!document.querySelector('[data-pipeline="${running}"][data-status="cancelled"]')`,
    );
    await page.waitFor(`!!document.querySelector('[data-action="retry"]')`);

    // Per-function rates: `nonretryable` failed every attempt, `ok` none.
    await page.waitFor(
      `document.querySelector('#functions [data-function="nonretryable"]')?.dataset.failureRate === "1"`,
    );
    assertEquals(
      await page.evaluate(
        `document.querySelector('#functions [data-function="ok"]').dataset.failureRate`,
      ),
      "0",
    );
    await page.screenshot(`${ARTIFACTS}dashboard_cancelled.png`);
    assertEquals(page.errors, []);
  },
});
