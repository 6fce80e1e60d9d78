/**
 * The bootstrap of a throwaway Web Worker that describes one function module: it
 * imports the module and reports its `config` export (as JSON) and whether it has a
 * default export function, then the host terminates it.
 *
 * The report goes over a `MessagePort` that arrives with the first message, before
 * any user code runs: the module's own code can `self.postMessage` anything, but it
 * never holds that port, so what it posts is not taken as the description. The
 * host validates the config itself; nothing here is trusted beyond "this is what
 * the module exported".
 *
 * @module
 */

/** The first and only message the host sends. */
interface DescribeStart {
  url: string;
  port: MessagePort;
}

/**
 * What the port carries: the config's JSON (`undefined`: none), or why loading
 * failed; before either, what the module's top-level code logged.
 */
export type DescribeReport =
  | { ok: true; config?: string; hasDefault: boolean }
  | { ok: false; name: string; message: string; stack?: string }
  | { log: "debug" | "info" | "warn" | "error"; message: string };

/** A config larger than this is refused by the host anyway. */
const MAX_CONFIG_CHARS = 65_536;
/** Log lines of top-level code: at most this many, each cut to this length. */
const MAX_LOGS = 100;
const MAX_LOG_CHARS = 4_096;

// Taken before any user code runs: the module may replace the globals.
const stringify = JSON.stringify;
const scope = globalThis as unknown as {
  addEventListener(type: string, listener: (event: Event) => void, options?: object): void;
};

scope.addEventListener("message", (event) => {
  const start = (event as MessageEvent).data as Partial<DescribeStart>;
  const port = start?.port;
  if (typeof start?.url !== "string" || !(port instanceof MessagePort)) return;
  const send: (report: DescribeReport) => void = port.postMessage.bind(port);
  quietConsole(send);
  import(start.url).then(
    (loaded: { default?: unknown; config?: unknown }) => {
      let config: string | undefined;
      try {
        config = loaded.config === undefined ? undefined : stringify(loaded.config);
      } catch (error) {
        return send(failure(error, "Its config is not JSON"));
      }
      if (config !== undefined && config.length > MAX_CONFIG_CHARS) {
        return send(failure(undefined, `Its config is over ${MAX_CONFIG_CHARS} characters`));
      }
      send({
        ok: true,
        ...(config === undefined ? {} : { config }),
        hasDefault: typeof loaded.default === "function",
      });
    },
    (error) => send(failure(error, "It failed to import")),
  );
}, { once: true });

function failure(error: unknown, fallback: string): DescribeReport {
  if (error instanceof Error) {
    return {
      ok: false,
      name: String(error.name),
      message: String(error.message),
      ...(typeof error.stack === "string" ? { stack: error.stack } : {}),
    };
  }
  return { ok: false, name: "Error", message: error === undefined ? fallback : String(error) };
}

/**
 * `console` becomes log lines on the port: the host's stdout is its channel to the
 * broker (and whatever reaches it must never look like a frame).
 */
function quietConsole(send: (report: DescribeReport) => void): void {
  let logs = 0;
  const write = (level: "debug" | "info" | "warn" | "error") => (...args: unknown[]) => {
    if (++logs > MAX_LOGS) return;
    const text = args.map((arg) => typeof arg === "string" ? arg : Deno.inspect(arg)).join(" ");
    send({ log: level, message: text.slice(0, MAX_LOG_CHARS) });
  };
  const methods: Record<string, (...args: unknown[]) => void> = {
    log: write("info"),
    info: write("info"),
    debug: write("debug"),
    warn: write("warn"),
    error: write("error"),
  };
  const quiet = new Proxy(console, { get: (_, key) => methods[String(key)] ?? (() => {}) });
  Object.defineProperty(globalThis, "console", {
    value: quiet,
    configurable: false,
    writable: false,
  });
}
