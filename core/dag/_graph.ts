/**
 * Walks of a validated DAG shared by the step and the plans.
 *
 * @module
 */
import type { Dag } from "./validate.ts";

/** The ids of a job's ancestors: its parents, theirs, and so on. */
export function ancestors(dag: Dag, jobId: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(dag.byId.get(jobId)?.parents ?? [])];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    if (seen.has(id)) continue;
    seen.add(id);
    for (const parent of dag.byId.get(id)?.parents ?? []) stack.push(parent);
  }
  return seen;
}
