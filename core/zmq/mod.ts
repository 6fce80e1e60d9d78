/**
 * An async ZeroMQ transport for Deno on libzmq through FFI.
 *
 * ```ts
 * import { Context } from "./mod.ts";
 * const ctx = new Context();
 * const server = ctx.socket("router");
 * const endpoint = server.bind("tcp://127.0.0.1:0");
 * const client = ctx.socket("dealer");
 * client.connect(endpoint);
 * await client.send(["hello"]);
 * const [peer, body] = await server.receive();
 * await server.send([peer!, body!]);
 * await client.receive();
 * await ctx.close();
 * ```
 *
 * @module
 */
export { Context, type ContextOptions, shareOneContext } from "./context.ts";
export { Socket } from "./socket.ts";
export type { Frames, SocketOptions } from "./socket.ts";
export { DEFAULT_MAX_MESSAGE_SIZE } from "./_socket_options.ts";
export type { SocketType } from "./constants.ts";
export { SocketClosedError, ZmqError } from "./errors.ts";
export { type Libzmq, libzmqFile, LibzmqNotFoundError, loadLibzmq } from "./loader.ts";
export { curveKeyPair } from "./curve.ts";
