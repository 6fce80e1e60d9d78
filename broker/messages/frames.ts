/**
 * Length-prefixed JSON frames on a byte stream: a 4-byte big-endian length, then
 * that many bytes of UTF-8 JSON. Used between a broker and its worker hosts.
 *
 * @module
 */
import { TurnBatch } from "../../core/turn_batch.ts";

/** Frames above this are a corrupt stream (or a runaway output), not data. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes one value as a frame. */
export function encodeFrame(value: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(value));
  if (body.length > MAX_FRAME_BYTES) {
    throw new RangeError(`Frame of ${body.length} bytes exceeds ${MAX_FRAME_BYTES} bytes`);
  }
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

/** Splits a byte stream into frames; keeps a partial frame until its rest arrives. */
export class FrameDecoder {
  #buffer: Uint8Array = new Uint8Array(0);

  /** Whether bytes of an unfinished frame are held. */
  get partial(): boolean {
    return this.#buffer.length > 0;
  }

  /**
   * Takes the next bytes (which it may keep: pass a chunk you will not reuse) and
   * hands each complete frame's value to `onFrame`, in order.
   *
   * @throws {TypeError} on a frame that is too long, not UTF-8 or not JSON.
   */
  push(chunk: Uint8Array, onFrame: (value: unknown) => void): void {
    let buffer = this.#buffer.length === 0 ? chunk : concat(this.#buffer, chunk);
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const length = new DataView(buffer.buffer, buffer.byteOffset + offset).getUint32(0);
      if (length > MAX_FRAME_BYTES) {
        throw new TypeError(`Corrupt stream: frame length ${length} exceeds ${MAX_FRAME_BYTES}`);
      }
      if (buffer.length - offset - 4 < length) break;
      const body = buffer.subarray(offset + 4, offset + 4 + length);
      offset += 4 + length;
      let value: unknown;
      try {
        value = JSON.parse(decoder.decode(body));
      } catch (error) {
        throw new TypeError(`Corrupt stream: frame is not JSON (${(error as Error).message})`);
      }
      onFrame(value);
    }
    buffer = buffer.subarray(offset);
    this.#buffer = buffer;
  }
}

/**
 * Reads frames until the stream ends, handing each to `onFrame` as soon as it is
 * complete (no promise per frame).
 *
 * @throws {TypeError} on a frame that is too long, not UTF-8 or not JSON, or a
 *   stream that ends inside a frame.
 */
export async function pumpFrames(
  stream: ReadableStream<Uint8Array>,
  onFrame: (value: unknown) => void,
  initial?: Uint8Array,
): Promise<void> {
  const frames = new FrameDecoder();
  if (initial && initial.length > 0) frames.push(initial, onFrame);
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      frames.push(value, onFrame);
    }
  } finally {
    reader.releaseLock();
  }
  if (frames.partial) throw new TypeError("Stream ended inside a frame");
}

/**
 * Reads the first frame of a stream (the stream stays open). `rest`: the bytes read
 * after it, to hand to {@linkcode pumpFrames} as its `initial` bytes.
 *
 * @throws {TypeError} on a bad frame, or when the stream ends first.
 */
export async function readFirstFrame(
  stream: ReadableStream<Uint8Array>,
): Promise<{ value: unknown; rest: Uint8Array }> {
  const reader = stream.getReader();
  let buffer: Uint8Array = new Uint8Array(0);
  try {
    while (true) {
      if (buffer.length >= 4) {
        const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0);
        if (length > MAX_FRAME_BYTES) {
          throw new TypeError(`Corrupt stream: frame length ${length} exceeds ${MAX_FRAME_BYTES}`);
        }
        if (buffer.length >= 4 + length) {
          let value: unknown;
          new FrameDecoder().push(buffer.subarray(0, 4 + length), (frame) => value = frame);
          return { value, rest: buffer.slice(4 + length) };
        }
      }
      const { done, value } = await reader.read();
      if (done) throw new TypeError("Stream ended before its first frame");
      buffer = concat(buffer, value);
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Writes frames to a stream one after another, whoever calls. Frames written in the
 * same turn of the event loop go out in one write.
 */
export class FrameWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #frames = new TurnBatch<Uint8Array>((frames) => this.#writer.write(concat(...frames)));
  #closed = false;

  constructor(stream: WritableStream<Uint8Array>) {
    this.#writer = stream.getWriter();
  }

  /** Writes one frame. @throws when the stream is closed or broken. */
  write(value: unknown): Promise<void> {
    if (this.#closed) return Promise.reject(new TypeError("Frame stream is closed"));
    let frame: Uint8Array;
    try {
      frame = encodeFrame(value);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#frames.add(frame);
  }

  /** Closes the stream; later writes throw. Never throws itself. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#frames.flushNow().catch(() => {}); // Frames already written go first.
    await this.#writer.close().catch(() => {});
  }
}

/** The bytes of several arrays, one after another (one array comes back as it is). */
export function concat(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
