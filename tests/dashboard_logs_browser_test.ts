/**
 * A job's log lines in the dashboard, in headless Chromium: what `ctx.log` and
 * `console` wrote, with each line's attempt and level, read from the Router's store.
 * Screenshot in `tests/artifacts/`.
 */
import { assert, assertEquals } from "./_assert.ts";
import { ARTIFACTS, Browser, hasChromium } from "./_browser.ts";
import { Cluster } from "./_cluster.ts";

Deno.test({
  name: "dashboard shows a job's log lines, with their attempt and level, in Chromium",
  ignore: !hasChromium(),
  async fn() {
    await using cluster = await Cluster.start({ waitFor: ["logs", "ok"] });
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const result = await cluster.manager.run({ graph: { logs: "ok" } }, { timeoutMs: 30_000 });
    assertEquals(result.status, "succeeded", cluster.logs());

    await using browser = await Browser.launch(`${cluster.http}/#/pipelines/${result.id}`);
    const page = browser.page;
    await page.waitFor(`!!document.querySelector('#dag [data-job="logs"]')`);
    await page.click('#dag [data-job="logs"]');
    await page.waitFor(`document.querySelectorAll("#job-logs li").length >= 5`);
    const lines = await page.evaluate(
      `[...document.querySelectorAll("#job-logs li")].map((li) => [li.dataset.attempt, li.dataset.level, li.textContent])`,
    ) as [string, string, string][];
    const text = lines.map(([, , t]) => t).join("\n");
    for (const message of ["Working on job", "Careful", "Something looked wrong", "from console"]) {
      assert(text.includes(message), `"${message}" not shown:\n${text}`);
    }
    assert(lines.every(([attempt]) => attempt === "1"), JSON.stringify(lines));
    assert(lines.some(([, level]) => level === "warn"), JSON.stringify(lines));
    assert(!text.includes("garbage on stdout"), text);
    await page.screenshot(`${ARTIFACTS}dashboard_logs.png`);

    // A job that logged nothing says so.
    await page.click('#dag [data-job="ok"]');
    await page.waitFor(`document.getElementById("job-logs")?.textContent === "No log lines"`);
  },
});
