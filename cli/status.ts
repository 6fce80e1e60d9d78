/**
 * `deno task status <id>`: prints a pipeline's status, jobs and document.
 *
 * @module
 */
// deno-lint-ignore-file no-console -- a command-line tool prints to the terminal
import { parseOrExit } from "../core/daemon.ts";
import { HttpClient } from "./http_client.ts";

const spec = {
  usage: "deno task status",
  positionals: "<pipeline id>",
  description:
    "Prints a pipeline's status, its jobs and its document. Uses PIPELININ_TOKEN when set.",
  flags: {
    url: {
      type: "string",
      description: "The Router's HTTP base URL",
      default: "http://127.0.0.1:8080",
    },
    json: { type: "boolean", description: "Print the whole record as JSON" },
  },
} as const;

try {
  const parsed = parseOrExit(spec);
  const [id] = parsed.positionals;
  if (!id) throw new TypeError("Give the pipeline id");
  const record = await new HttpClient(parsed.values.url).status(id);
  if (parsed.values.json) {
    console.log(JSON.stringify(record, null, 2));
  } else {
    console.log(
      `${record.id}: ${record.status}${
        record.durationMs !== undefined ? ` in ${record.durationMs} ms` : ""
      }`,
    );
    for (const job of record.jobs) {
      const time = job.durationMs !== undefined ? ` ${job.durationMs.toFixed(1)} ms` : "";
      const error = job.error ? `: ${job.error.name}: ${job.error.message}` : "";
      console.log(
        `  ${job.jobId} (${job.fn}) ${job.status}, ${job.attempts} attempt(s)${time}${error}`,
      );
    }
    console.log(JSON.stringify(record.document, null, 2));
  }
} catch (error) {
  console.error((error as Error).message);
  Deno.exit(error instanceof TypeError ? 2 : 1);
}
