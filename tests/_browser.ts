/**
 * Headless Chromium for the dashboard tests, driven over the DevTools protocol with
 * Deno's own WebSocket: launch on a URL, evaluate, wait for a condition, click, type,
 * take screenshots; disposing stops every Chromium process and removes its profile.
 */

const CHROMIUM = "/usr/bin/chromium";
/** Where the screenshots go. */
export const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;

/** Whether Chromium is installed (the tests are skipped without it). */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A minimal DevTools protocol client for one page. */
export class Page {
  readonly #ws: WebSocket;
  readonly #closed: Promise<void>;
  readonly #pending = new Map<number, (message: Record<string, unknown>) => void>();
  /** Uncaught errors the page's scripts threw, as the page reported them. */
  readonly errors: string[] = [];
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#closed = new Promise((resolve) => ws.addEventListener("close", () => resolve()));
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      if (message.method === "Runtime.exceptionThrown") {
        const details = message.params.exceptionDetails;
        this.errors.push(details.exception?.description ?? details.text);
      }
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
        throw new Error(
          `Timed out waiting for ${expression}\n--- page errors ---\n${this.errors.join("\n")}` +
            `\n--- page text ---\n${body}`,
        );
      }
      await sleep(100);
    }
  }

  /** Clicks the element `selector` names (SVG too), failing when there is none. */
  async click(selector: string): Promise<void> {
    const s = JSON.stringify(selector);
    const found = await this.evaluate(
      `(() => { const el = document.querySelector(${s}); if (!el) return false; ` +
        `el.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true })); return true; })()`,
    );
    if (!found) throw new Error(`No element ${selector} to click`);
  }

  /** Sets the value of the input or select `selector` names, as typing would. */
  async fill(selector: string, value: string): Promise<void> {
    const s = JSON.stringify(selector), v = JSON.stringify(value);
    const found = await this.evaluate(
      `(() => { const el = document.querySelector(${s}); if (!el) return false; el.value = ${v}; ` +
        `el.dispatchEvent(new Event("input", { bubbles: true })); ` +
        `el.dispatchEvent(new Event("change", { bubbles: true })); return true; })()`,
    );
    if (!found) throw new Error(`No element ${selector} to fill`);
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
export class Browser implements AsyncDisposable {
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
          await connected.send("Runtime.enable");
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
