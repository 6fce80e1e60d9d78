/**
 * Pure DAG logic shared by the client, the Router and the Pipeliner: validating a
 * pipeline (every problem at once), the state machine that drives it,
 * `(dag, state, event) -> { state, commands }`, the plans a pipeliner decides
 * ahead, and DOT text. No I/O.
 *
 * ```ts
 * import { initialState, step, validatePipeline } from "./mod.ts";
 *
 * const dag = validatePipeline({ graph: { fetch: ["parse"] }, data: { url: "x" } });
 * const { commands } = step(dag, initialState(dag, { url: "x" }), { type: "start" });
 * // commands: [{ type: "run", jobId: "fetch", fn: "fetch", input: { url: "x" } }]
 * ```
 *
 * @module
 */
export {
  type Dag,
  type DagJob,
  DEFAULT_LIMITS,
  noteEncodedSize,
  type PipelineLimits,
  validatePipeline,
} from "./validate.ts";
export {
  type DagCommand,
  type DagEvent,
  type DagState,
  documentOf,
  initialState,
  inputOf,
  step,
} from "./step.ts";
export { isChain, PLAN_DEPTH, planAfter, PlanLedger } from "./plan.ts";
export { toDot } from "./dot.ts";
export { dataProblems } from "./_data.ts";
export { conditionHolds, conditionProblems, valueAt } from "./condition.ts";
export { OPTION_LIMITS, SIGNAL_NAME } from "./job_options.ts";
export { MAX_PRIORITY, runAtOf } from "./timing.ts";
// Document merging lives apart (`core/document.ts`); re-exported for the DAG's old importers.
export { mergeDocument, restrictInput } from "../document.ts";
