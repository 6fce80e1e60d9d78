/**
 * The error of a message that could not be parsed.
 *
 * @module
 */
import { ErrorName } from "../errors.ts";

/** A message could not be parsed; the text says what is wrong with it. */
export class ProtocolError extends Error {
  override name: string = ErrorName.Protocol;
  /** The request id, when the message had a readable one (so it can be answered). */
  readonly requestId: string | undefined;
  /** The field that is missing or invalid, as a path (`broker.pid`), when one is. */
  readonly field: string | undefined;
  constructor(message: string, requestId?: string, field?: string) {
    super(message);
    this.requestId = requestId;
    this.field = field;
  }
}
