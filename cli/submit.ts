/**
 * `deno task submit <pipeline.json> [--wait]`: submits a pipeline over HTTP, prints
 * its id and, with `--wait`, a progress bar of jobs done, then the document.
 *
 * @module
 */
// deno-lint-ignore-file no-console -- a command-line tool prints to the terminal
import { parseOrExit } from "../core/daemon.ts";
import { HttpClient } from "./http_client.ts";

const spec = {
  usage: "deno task submit",
  positionals: "<pipeline.json | ->",
  description:
    "Submits a pipeline (JSON: graph, data, jobs) to the Router's HTTP API and prints its id. Uses PIPELININ_TOKEN when set.",
  flags: {
    url: {
      type: "string",
      description: "The Router's HTTP base URL",
      default: "http://127.0.0.1:8080",
    },
    wait: { type: "boolean", description: "Show progress until it ends, then print the document" },
  },
} as const;

try {
  const parsed = parseOrExit(spec);
  const [file] = parsed.positionals;
  if (!file) throw new TypeError("Give the pipeline's JSON file (or - for standard input)");
  const json = file === "-"
    ? await new Response(Deno.stdin.readable).text()
    : await Deno.readTextFile(file);
  const client = new HttpClient(parsed.values.url);
  const id = await client.submit(json);
  console.log(id);
  if (parsed.values.wait) {
    const interactive = Deno.stderr.isTerminal();
    const record = await client.follow(id, (r) => {
      const done = r.jobs.filter((j) => !["pending", "running"].includes(j.status)).length;
      const width = 30;
      const filled = r.jobs.length ? Math.round((done / r.jobs.length) * width) : width;
      const bar = `[${"#".repeat(filled)}${
        "-".repeat(width - filled)
      }] ${done}/${r.jobs.length} jobs ${r.status}`;
      Deno.stderr.writeSync(new TextEncoder().encode(interactive ? `\r${bar}` : `${bar}\n`));
    });
    if (interactive) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    console.log(JSON.stringify(record.document, null, 2));
    if (record.status !== "succeeded") {
      const failed = record.jobs.find((j) => j.status === "failed");
      console.error(
        `Pipeline ${record.status}${
          failed ? `: job "${failed.jobId}": ${failed.error?.message}` : ""
        }`,
      );
      Deno.exit(1);
    }
  }
} catch (error) {
  console.error((error as Error).message);
  Deno.exit(error instanceof TypeError ? 2 : 1);
}
