/**
 * The Pipeliner: drives DAGs. The Router hands it pipelines; it asks the Router to
 * run each job whose parents have succeeded, and reports each pipeline's end. With
 * each job it sends what follows its success when nothing else decides it (children
 * whose only parent it is, or the end): the Router takes those steps at once, and the
 * pipeliner, told of the success, does not ask again. It
 * keeps no durable state: after a crash the Router hands its pipelines to another
 * pipeliner, which replays them (finished jobs are answered from the Router's store).
 *
 * ```ts
 * import { start } from "./pipeliner/mod.ts";
 * const pipeliner = await start({ router: "tcp://127.0.0.1:5555" });
 * await pipeliner.stop();
 * ```
 *
 * @module
 */
import {
  type Dag,
  type DagCommand,
  type DagEvent,
  type DagState,
  initialState,
  planAfter,
  PlanLedger,
  step,
  validatePipeline,
} from "../core/dag/mod.ts";
import { Lifecycle, type LifecycleState } from "../core/lifecycle.ts";
import { getLogger } from "../core/log.ts";
import type { PeerEvent } from "../core/protocol/mod.ts";
import { RouterLink } from "../core/router_link.ts";
import type { CurveClientKeys } from "../core/curve_keys.ts";
import { RouterSession } from "../core/router_session.ts";
import { toErrorData } from "../core/errors.ts";
import type { TraceSpan, Tracing } from "../core/tracing/mod.ts";

/** Pipeliner settings. */
export interface PipelinerConfig {
  /**
   * The Router's request endpoint, or those of every Router of the cluster (a list or
   * a comma list): the pipeliner follows whichever is active. Default
   * `tcp://127.0.0.1:5555`.
   */
  router?: string | readonly string[];
  /** This pipeliner's id (its routing id). Default: host, pid and a random suffix. */
  id?: string;
  /** Connect with CURVE (the Router's public key and ours); absent: plain ZeroMQ. */
  curve?: CurveClientKeys;
  /**
   * A span per pipeline driven, from its assignment to its end, under the Router's
   * pipeline span (see `core/tracing`); the caller shuts it down. Default: none.
   */
  tracing?: Tracing;
}

/** A running pipeliner. */
export interface PipelinerHandle {
  /** Its id. */
  readonly id: string;
  /** Pipelines it is driving now. */
  readonly active: number;
  /** Where it is in its life. */
  readonly state: LifecycleState;
  /** Says goodbye to the Router and stops. */
  stop(): Promise<void>;
}

interface Driven {
  dag: Dag;
  state: DagState;
  /** What the Router does by itself (planned with a parent): not asked for again. */
  plans: PlanLedger;
  /** With tracing on: its span here. */
  span?: TraceSpan;
}

/** Starts a pipeliner and joins the Router (retrying until it answers). */
export async function start(config: PipelinerConfig = {}): Promise<PipelinerHandle> {
  const log = getLogger("pipeliner");
  const lifecycle = new Lifecycle();
  const id = config.id ??
    `pipeliner-${Deno.hostname()}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const pipelines = new Map<string, Driven>();

  const apply = (pipelineId: string, event: DagEvent) => {
    const driven = pipelines.get(pipelineId);
    if (!driven) return;
    const { state, commands } = step(driven.dag, driven.state, event);
    driven.state = state;
    for (const command of commands) execute(pipelineId, command);
  };

  const execute = (pipelineId: string, command: DagCommand) => {
    const driven = pipelines.get(pipelineId);
    switch (command.type) {
      case "run": {
        if (!driven || driven.plans.takes(command.jobId)) return; // The Router started it.
        const plan = planAfter(driven.dag, command.jobId);
        if (plan) driven.plans.note(plan);
        send({
          type: "job-request",
          pipelineId,
          jobId: command.jobId,
          fn: command.fn,
          input: command.input,
          ...(plan ? { plan } : {}),
        });
        return;
      }
      case "finish":
        pipelines.delete(pipelineId);
        if (driven?.span) {
          driven.span.set({ "pipelinin.status": command.status });
          driven.span.end();
        }
        if (command.status === "succeeded" && driven?.plans.ends) return; // The Router ended it.
        send({
          type: "pipeline-finish",
          pipelineId,
          status: command.status,
          document: command.document,
        });
        log.debug("Pipeline {pipelineId} {status}", { pipelineId, status: command.status });
        return;
      case "cancel-running":
        return; // The Router stops running jobs itself when it cancels.
      default:
        return assertNever(command);
    }
  };

  const onEvent = (event: PeerEvent) => {
    switch (event.type) {
      case "pipeline-assign": {
        try {
          const dag = validatePipeline(event.spec, {});
          pipelines.get(event.pipelineId)?.span?.end(); // Assigned again: replayed anew.
          pipelines.set(event.pipelineId, {
            dag,
            state: initialState(dag, event.spec.data ?? {}),
            plans: new PlanLedger(),
            ...(config.tracing ? { span: driveSpan(config.tracing, event, id) } : {}),
          });
          apply(event.pipelineId, { type: "start" });
        } catch (error) {
          log.error("Cannot drive pipeline {pipelineId}: {error}", {
            pipelineId: event.pipelineId,
            error: toErrorData(error).message,
          });
        }
        return;
      }
      case "job-result":
        apply(
          event.pipelineId,
          event.skipped
            ? { type: "job-skipped", jobId: event.jobId }
            : event.outcome.ok
            ? { type: "job-succeeded", jobId: event.jobId, output: event.outcome.output }
            : { type: "job-failed", jobId: event.jobId, error: event.outcome.error },
        );
        return;
      case "pipeline-cancel":
        pipelines.get(event.pipelineId)?.span?.end();
        pipelines.delete(event.pipelineId);
        return;
      case "hello-again":
        pipelines.clear(); // The Router will hand them back.
        void session.join();
        return;
      case "error":
        log.warn("The Router rejected a message: {error}", { error: event.error.message });
        return;
      case "job-run":
      case "job-cancel":
      case "functions-manifest":
        log.warn("Unexpected {type} for a pipeliner", { type: event.type });
        return;
      default:
        return assertNever(event);
    }
  };

  const link = new RouterLink({
    api: config.router ?? "tcp://127.0.0.1:5555",
    routingId: id,
    ...(config.curve ? { curve: config.curve } : {}),
    onEvent,
    onProtocolError: (error) =>
      log.warn("Malformed message from the Router: {error}", { error: error.message }),
  });

  const send = (event: Parameters<RouterLink["send"]>[0]) =>
    link.send(event).catch((error) => {
      if (lifecycle.state === "starting" || lifecycle.running) {
        log.warn("Send to the Router failed: {error}", { error: toErrorData(error).message });
      }
    });

  const session = new RouterSession({
    link,
    log,
    hello: () => ({
      type: "pipeliner-hello",
      pipeliner: { id, host: Deno.hostname(), pid: Deno.pid },
    }),
    status: () => ({ type: "pipeliner-status", active: pipelines.size }),
    joined: `Pipeliner ${id} joined the Router`,
  });

  await session.join();
  lifecycle.started();
  let stopping: Promise<void> | undefined;
  return {
    id,
    get active() {
      return pipelines.size;
    },
    get state() {
      return lifecycle.state;
    },
    stop() {
      if (lifecycle.stopping()) {
        stopping = (async () => {
          await session.stop();
          await link.close();
          lifecycle.stopped();
          log.info("Pipeliner stopped");
        })();
      }
      return stopping ?? Promise.resolve();
    },
  };
}

function assertNever(value: never): never {
  throw new Error(`Unhandled ${JSON.stringify(value)}`);
}

/** The span of driving one pipeline, under the Router's span of it. */
function driveSpan(
  tracing: Tracing,
  event: { pipelineId: string; traceparent?: string; spec: { graph: object } },
  pipeliner: string,
): TraceSpan {
  return tracing.start("drive pipeline", {
    ...(event.traceparent ? { parent: event.traceparent } : {}),
    kind: "consumer",
    attributes: {
      "pipelinin.pipeline.id": event.pipelineId,
      "pipelinin.pipeliner": pipeliner,
      "pipelinin.jobs": Object.keys(event.spec.graph).length,
    },
  });
}
