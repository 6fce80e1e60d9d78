/**
 * The dashboard in a real browser: headless Chromium, driven over the DevTools
 * protocol with Deno's own WebSocket, opens the Router's page while a pipeline runs,
 * sees the DAG change live, shows a failed job's error, and leaves screenshots in
 * `tests/artifacts/`.
 */
import { assert, assertEquals } from "./_assert.ts";
import { Cluster } from "./_cluster.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;

function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A minimal DevTools protocol client for one page. */
class Page {
  readonly #ws: WebSocket;
  readonly #closed: Promise<void>;
  readonly #pending = new Map<number, (message: Record<string, unknown>) => void>();
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#closed = new Promise((resolve) => ws.addEventListener("close", () => resolve()));
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      this.#pending.get(message.id)?.(message);
      this.#pending.delete(message.id);
    });
  }

  static async connect(url: string): Promise<Page> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.addEventListener("open", resolve, { once: true });
      ws.addEventListener("error", () => reject(new Error(`Cannot connect to "${url}"`)), {
        once: true,
      });
    });
    return new Page(ws);
  }

  /** Sends one command; resolves with its result. */
  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (message) => {
        if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
        else resolve(message.result as Record<string, unknown>);
      });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The value of a JavaScript expression in the page. */
  async evaluate(expression: string): Promise<unknown> {
    const result = await this.send("Runtime.evaluate", { expression, returnByValue: true });
    if (result.exceptionDetails) {
      throw new Error(`${expression}: ${JSON.stringify(result.exceptionDetails)}`);
    }
    return (result.result as { value?: unknown }).value;
  }

  /** Polls until `expression` is truthy in the page. */
  async waitFor(expression: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.evaluate(expression))) {
      if (Date.now() > deadline) {
        const body = await this.evaluate("document.body.innerText");
        throw new Error(`Timed out waiting for ${expression}\n--- page text ---\n${body}`);
      }
      await sleep(100);
    }
  }

  /** Saves a PNG of the viewport. */
  async screenshot(path: string): Promise<void> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png" });
    await Deno.writeFile(path, Uint8Array.from(atob(String(data)), (c) => c.charCodeAt(0)));
  }

  async close(): Promise<void> {
    this.#ws.close();
    await this.#closed;
  }
}

/** Pids of the processes whose command line mentions `marker`. */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).includes(marker)) {
        pids.push(Number(entry.name));
      }
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

/**
 * Headless Chromium with a fresh profile and config dir under one temp dir, whose path
 * every Chromium process (renderers, GPU, crash handlers) carries on its command line:
 * disposing stops them all, even the ones that left the process tree, and removes it.
 */
class Browser implements AsyncDisposable {
  readonly #process: Deno.ChildProcess;
  readonly #dir: string;
  readonly #stderr: Promise<string>;
  #page?: Page;

  private constructor(url: string) {
    this.#dir = Deno.makeTempDirSync({ prefix: "pipelinin-chromium-" });
    this.#process = new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--disable-extensions",
        "--hide-scrollbars",
        "--window-size=1280,900",
        `--user-data-dir=${this.#dir}/profile`,
        "--remote-debugging-port=0",
        url,
      ],
      // Crash handler data and Chromium's temp files stay in the dir too.
      env: { XDG_CONFIG_HOME: `${this.#dir}/config`, TMPDIR: this.#dir },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#stderr = new Response(this.#process.stderr).text();
  }

  /** Starts Chromium on `url` and connects to its page. */
  static async launch(url: string): Promise<Browser> {
    const browser = new Browser(url);
    try {
      browser.#page = await browser.#connect();
      return browser;
    } catch (error) {
      await browser[Symbol.asyncDispose]();
      throw new Error(`${(error as Error).message}\n${await browser.#stderr}`);
    }
  }

  get page(): Page {
    return this.#page!;
  }

  async #connect(): Promise<Page> {
    // With port 0, Chromium writes the port it chose to this file in the profile.
    const deadline = Date.now() + 30_000;
    while (true) {
      try {
        const port = Number(
          (await Deno.readTextFile(`${this.#dir}/profile/DevToolsActivePort`))
            .split("\n")[0],
        );
        const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
        const page = targets.find((t: { type: string }) => t.type === "page");
        if (page) {
          const connected = await Page.connect(page.webSocketDebuggerUrl);
          await connected.send("Emulation.setDeviceMetricsOverride", {
            width: 1280,
            height: 900,
            deviceScaleFactor: 1,
            mobile: false,
          });
          return connected;
        }
      } catch {
        // Not up yet.
      }
      if (Date.now() > deadline) throw new Error("Chromium did not open its DevTools port");
      await sleep(100);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#page?.close().catch(() => {});
    // SIGTERM lets Chromium take its renderer and helper processes down with it.
    const kill = (signal: Deno.Signal) => {
      try {
        this.#process.kill(signal);
      } catch { /* already gone */ }
    };
    kill("SIGTERM");
    const timer = setTimeout(() => kill("SIGKILL"), 5000);
    await this.#process.status;
    clearTimeout(timer);
    await this.#stderr;
    // Helpers outlive the main process by a moment; the crash handlers left its tree.
    const deadline = Date.now() + 5000;
    while (processesWith(this.#dir).length > 0 && Date.now() < deadline) await sleep(100);
    for (const pid of processesWith(this.#dir)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone meanwhile */ }
    }
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

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
    await page.evaluate(`document.querySelector('button[data-signal="approved"]').click()`);
    const result = await cluster.manager.wait(id, { timeoutMs: 30_000 });
    assertEquals([result.status, result.document.by], ["succeeded", "ann"]);
    await page.waitFor(`!!${node("after", "succeeded")}`);
  },
});
