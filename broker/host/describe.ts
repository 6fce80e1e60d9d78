/**
 * Describes a function module for the broker: a throwaway Web Worker that may only
 * read the module and its helpers imports it (`worker/describe_entry.ts`) and sends
 * its `config` export back over a `MessagePort` handed over before any user code
 * ran. Whatever the module posts on the worker itself is ignored: a module cannot
 * claim a config other than the one it exports, nor describe another module. The
 * config is validated here, in the host's own isolate.
 *
 * @module
 */
import { ErrorName } from "../../core/errors.ts";
import { validateConfig } from "../messages/function_config.ts";
import { readOnlyPermissions } from "../messages/permissions.ts";
import type { DescribeResult, LogRecord } from "../messages/sandbox.ts";
import type { DescribeReport } from "../worker/describe_entry.ts";

const LEVELS: readonly string[] = ["debug", "info", "warn", "error"];
const DESCRIBE_ENTRY_URL = new URL("../worker/describe_entry.ts", import.meta.url).href;

/** Describes module `fn` at `url`, reading only `read`, within `timeoutMs`. Never throws. */
export async function describeModule(
  fn: string,
  url: string,
  read: string[],
  timeoutMs: number,
  onLog: (record: LogRecord) => void,
): Promise<DescribeResult> {
  const { promise, resolve } = Promise.withResolvers<DescribeResult>();
  const fail = (message: string, retryable = false): void =>
    resolve({ ok: false, error: { name: ErrorName.FunctionLoad, message, retryable } });
  let worker: Worker;
  try {
    worker = new Worker(DESCRIBE_ENTRY_URL, {
      type: "module",
      name: fn,
      deno: { permissions: readOnlyPermissions(read) },
    });
  } catch (error) {
    return {
      ok: false,
      error: { name: ErrorName.FunctionLoad, message: String(error), retryable: true },
    };
  }
  const channel = new MessageChannel();
  const timer = setTimeout(
    () => fail(`Function "${fn}" took longer than ${timeoutMs} ms to load`, true),
    timeoutMs,
  );
  // What the module posts on the worker itself is its own word: dropped.
  worker.onmessage = () => {};
  worker.onmessageerror = () => {};
  worker.onerror = (event) => {
    event.preventDefault();
    fail(`Function "${fn}" failed to load: ${event.message}`);
  };
  channel.port1.onmessage = (event) => {
    const report = event.data as DescribeReport;
    if (typeof report !== "object" || report === null) return fail("Bad describe report");
    if ("log" in report) {
      if (!LEVELS.includes(report.log)) return;
      onLog({
        time: Date.now(),
        level: report.log,
        message: String(report.message),
        fields: { fn },
      });
      return;
    }
    if (!report.ok) {
      return resolve({
        ok: false,
        error: {
          name: String(report.name),
          message: String(report.message),
          ...(typeof report.stack === "string" ? { stack: report.stack } : {}),
          retryable: false,
        },
      });
    }
    let raw: unknown;
    try {
      raw = report.config === undefined ? undefined : JSON.parse(String(report.config));
    } catch {
      return fail(`Function "${fn}" has a config that is not JSON`);
    }
    const { config, problems } = validateConfig(raw);
    resolve({
      ok: true,
      description: { config, problems, hasDefault: report.hasDefault === true },
    });
  };
  worker.postMessage({ url, port: channel.port2 }, [channel.port2]);
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
    channel.port1.close();
    worker.terminate();
  }
}
