/**
 * The chain follower inside a Web Worker: a run may bring followers of the same
 * function, which the worker starts the moment the run before succeeds, with no
 * round trip to its host. A follower stopped before it began is answered with the
 * reason instead of running; the followers of a run that did not succeed never
 * begin (the host answers them).
 *
 * @module
 */
// Not `core/dag/mod.ts`: every Web Worker of every slot loads this module, and the
// DAG's validator and state machine (a dozen modules) would sit unused in each.
import { mergeDocument, restrictInput } from "../../core/document.ts";
import { toErrorData } from "../../core/errors.ts";
import type { ErrorData, JsonObject } from "../../core/types.ts";
import { jobSkipped } from "../messages/errors.ts";
import type { WorkerFollower, WorkerRunRequest } from "../messages/worker.ts";

/** What comes after a run: its follower, a follower that does not begin, or nothing. */
export type AfterRun =
  | { kind: "none" }
  | { kind: "run"; request: WorkerRunRequest }
  | { kind: "decline"; id: number; error: ErrorData };

const NONE: AfterRun = { kind: "none" };

/** The followers of this worker's runs that have not begun. */
export class WorkerChain {
  /** By id, with the reason they were stopped once they are. */
  readonly #unbegun = new Map<number, ErrorData | undefined>();

  /** A run arrived: its followers have not begun. */
  expect(request: WorkerRunRequest): void {
    for (let follower = request.then; follower; follower = follower.then) {
      this.#unbegun.set(follower.id, undefined);
    }
  }

  /** Followers that will not begin (the run before them did not succeed). */
  forget(follower: WorkerFollower | undefined): void {
    for (; follower; follower = follower.then) this.#unbegun.delete(follower.id);
  }

  /** Stops follower `id` before it begins; false when it is not one that waits. */
  stop(id: number, reason: ErrorData): boolean {
    if (!this.#unbegun.has(id)) return false;
    this.#unbegun.set(id, reason);
    return true;
  }

  /**
   * After `request` ended with `output` (undefined: it failed): its follower, if it
   * succeeded. A run stopped by the host (`stop`: its timeout or cancel) did not
   * succeed, whatever it returned.
   */
  after(request: WorkerRunRequest, output: JsonObject | undefined, stop: AbortSignal): AfterRun {
    const follower = request.then;
    if (!follower || output === undefined) {
      this.forget(follower);
      return NONE;
    }
    const stopped = stop.aborted ? jobSkipped(follower.jobId) : this.#unbegun.get(follower.id);
    this.#unbegun.delete(follower.id);
    if (stopped) return this.#decline(follower, stopped);
    let input: JsonObject;
    try {
      // Same function, same `requires`: narrowing the input merged with the output is
      // narrowing the whole document so, and the worker never holds more than its input.
      input = restrictInput(
        mergeDocument(mergeDocument({}, request.input), output),
        follower.requires,
      );
    } catch (error) {
      return this.#decline(follower, toErrorData(error));
    }
    return {
      kind: "run",
      request: {
        type: "run",
        id: follower.id,
        fn: request.fn,
        input,
        jobId: follower.jobId,
        pipelineId: request.pipelineId,
        attempt: follower.attempt,
        ...(follower.then ? { then: follower.then } : {}),
        ...(follower.trace ? { trace: follower.trace } : {}),
      },
    };
  }

  #decline(follower: WorkerFollower, error: ErrorData): AfterRun {
    this.forget(follower.then);
    return { kind: "decline", id: follower.id, error };
  }
}

/**
 * The runs waiting their turn, first in first out. A list of its own: an array's
 * `push` and `shift` are looked up on `Array.prototype`, which user code beside the
 * entry may replace to see every run passed to them (other jobs' inputs).
 */
export class RunQueue {
  #head: RunLink | undefined;
  #tail: RunLink | undefined;

  push(request: WorkerRunRequest): void {
    const link: RunLink = { request, next: undefined };
    if (this.#tail) this.#tail.next = link;
    else this.#head = link;
    this.#tail = link;
  }

  shift(): WorkerRunRequest | undefined {
    const head = this.#head;
    if (!head) return undefined;
    this.#head = head.next;
    if (!this.#head) this.#tail = undefined;
    return head.request;
  }

  /** Takes out the run with this id, if it waits. */
  remove(id: number): WorkerRunRequest | undefined {
    let before: RunLink | undefined;
    for (let link = this.#head; link; before = link, link = link.next) {
      if (link.request.id !== id) continue;
      if (before) before.next = link.next;
      else this.#head = link.next;
      if (this.#tail === link) this.#tail = before;
      return link.request;
    }
    return undefined;
  }
}

interface RunLink {
  readonly request: WorkerRunRequest;
  next: RunLink | undefined;
}
