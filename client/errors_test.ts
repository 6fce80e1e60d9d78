import { assertEquals } from "../tests/_assert.ts";
import { ErrorName, toErrorData } from "../core/errors.ts";
import { ProtocolError } from "../core/protocol/mod.ts";
import {
  JobTimeoutError,
  NonRetryableError,
  PipelineValidationError,
  RequestTimeoutError,
  WaitTimeoutError,
} from "./mod.ts";

Deno.test("every error the client can see is named from ErrorName", () => {
  const cases: Array<[Error, string]> = [
    [new PipelineValidationError(["x"]), ErrorName.PipelineValidation],
    [new JobTimeoutError("a", 5), ErrorName.JobTimeout],
    [new NonRetryableError("no"), ErrorName.NonRetryable],
    [new RequestTimeoutError("status", 5, "tcp://x"), ErrorName.RequestTimeout],
    [new WaitTimeoutError("p", 5), ErrorName.WaitTimeout],
    [new ProtocolError("bad"), ErrorName.Protocol],
  ];
  for (const [error, name] of cases) assertEquals(error.name, name);
});

Deno.test("a NonRetryableError crosses a boundary as not retryable, whatever the default", () => {
  assertEquals(toErrorData(new NonRetryableError("no"), true).retryable, false);
  const marked = Object.assign(new Error("x"), { retryable: false });
  assertEquals(toErrorData(marked, true).retryable, false);
  assertEquals(toErrorData(new Error("x"), true).retryable, true);
});
