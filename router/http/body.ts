/**
 * A request body read within a size cap, counted as it streams in: a chunked body
 * declares no length, so the cap must hold before the whole of it is in memory.
 *
 * @module
 */
import { HTTPException } from "hono/http-exception";
import { PipelineValidationError } from "../../core/errors.ts";

/**
 * The body's bytes, or undefined once more than `max` came in (the rest is not read:
 * the stream is cancelled).
 */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<Uint8Array | undefined> {
  if (body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/**
 * A JSON request body read within `max` bytes: 415 unless it is labelled JSON (or, as
 * `curl -d` sends it, a form or nothing), 413 past the cap, a validation error when
 * it is not JSON.
 */
export async function readJson(
  request: Request,
  max: number,
  what: string,
): Promise<{ body: unknown; bytes: Uint8Array }> {
  const type = request.headers.get("content-type") ?? "";
  // `curl -d @pipeline.json` labels JSON as a form; take it, as the README promises.
  const curlDefault = type === "" || /^application\/x-www-form-urlencoded\b/i.test(type);
  if (!curlDefault && !/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw new HTTPException(415, { message: `Send ${what} as "application/json"` });
  }
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > max) throw tooLarge(max);
  // Counted as it streams in: a chunked body declares no length.
  const bytes = await readCapped(request.body, max);
  if (bytes === undefined) throw tooLarge(max);
  try {
    return { body: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)), bytes };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PipelineValidationError([`Malformed JSON: ${reason}`]);
  }
}

function tooLarge(max: number): HTTPException {
  return new HTTPException(413, { message: `The body is larger than ${max} bytes` });
}
