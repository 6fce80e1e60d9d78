/**
 * Graphviz DOT text of a DAG, for the dashboard and the CLI.
 *
 * @module
 */
import type { JobStatus } from "../types.ts";
import type { Dag } from "./validate.ts";

const COLOURS: Readonly<Record<JobStatus, string>> = {
  pending: "white",
  running: "lightblue",
  waiting: "plum",
  succeeded: "palegreen",
  failed: "salmon",
  skipped: "lightgrey",
  cancelled: "khaki",
};

/**
 * Graphviz DOT text of the DAG: one box per job, labelled with its id and, where
 * it differs, its function; filled by status when `statuses` is given.
 */
export function toDot(dag: Dag, statuses?: Readonly<Record<string, JobStatus>>): string {
  const lines = [
    "digraph pipeline {",
    "  rankdir=LR;",
    "  node [shape=box, style=filled, fillcolor=white];",
  ];
  for (const job of dag.jobs) {
    const label = job.fn === job.id
      ? _dotString(job.id)
      : `${_dotString(job.id)}\\n(${_dotString(job.fn)})`;
    const status = statuses && Object.hasOwn(statuses, job.id) ? statuses[job.id] : undefined;
    const fill = status ? `, fillcolor=${COLOURS[status]}` : "";
    lines.push(`  "${_dotString(job.id)}" [label="${label}"${fill}];`);
  }
  for (const job of dag.jobs) {
    for (const child of job.children) {
      lines.push(`  "${_dotString(job.id)}" -> "${_dotString(child)}";`);
    }
  }
  lines.push("}");
  return lines.join("\n");
}

/** The inside of a DOT quoted string: a backslash or quote would end or bend it. */
function _dotString(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")
    .replaceAll("\r", "\\r");
}
