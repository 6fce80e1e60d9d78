/**
 * The libzmq C functions pipelinin calls, as a Deno FFI symbol table.
 *
 * @module
 */

const isWindows = Deno.build.os === "windows";

/** `long` is 32-bit on Windows and 64-bit elsewhere. */
const LONG = isWindows ? "i32" : "i64";

/** The symbol table passed to `Deno.dlopen`. */
export const SYMBOLS = {
  zmq_version: { parameters: ["buffer", "buffer", "buffer"], result: "void" },
  zmq_has: { parameters: ["buffer"], result: "i32" },
  zmq_errno: { parameters: [], result: "i32" },
  zmq_strerror: { parameters: ["i32"], result: "pointer" },
  zmq_ctx_new: { parameters: [], result: "pointer" },
  zmq_ctx_shutdown: { parameters: ["pointer"], result: "i32" },
  // Terminating waits for lingering messages: run it off the JS thread.
  zmq_ctx_term: { parameters: ["pointer"], result: "i32", nonblocking: true },
  zmq_socket: { parameters: ["pointer", "i32"], result: "pointer" },
  zmq_close: { parameters: ["pointer"], result: "i32" },
  zmq_setsockopt: { parameters: ["pointer", "i32", "buffer", "usize"], result: "i32" },
  zmq_getsockopt: { parameters: ["pointer", "i32", "buffer", "buffer"], result: "i32" },
  zmq_bind: { parameters: ["pointer", "buffer"], result: "i32" },
  zmq_connect: { parameters: ["pointer", "buffer"], result: "i32" },
  zmq_unbind: { parameters: ["pointer", "buffer"], result: "i32" },
  zmq_disconnect: { parameters: ["pointer", "buffer"], result: "i32" },
  zmq_send: { parameters: ["pointer", "buffer", "usize", "i32"], result: "i32" },
  zmq_msg_init: { parameters: ["buffer"], result: "i32" },
  zmq_msg_recv: { parameters: ["buffer", "pointer", "i32"], result: "i32" },
  zmq_msg_data: { parameters: ["buffer"], result: "pointer" },
  zmq_msg_more: { parameters: ["buffer"], result: "i32" },
  zmq_msg_close: { parameters: ["buffer"], result: "i32" },
  // A message's connection property, e.g. "User-Id" (set by ZAP): null when it has none.
  zmq_msg_gets: { parameters: ["buffer", "buffer"], result: "pointer" },
  zmq_poll: { parameters: ["buffer", "i32", LONG], result: "i32" },
  // The same function, run on a helper thread so a blocking wait never stalls JS.
  zmq_poll_blocking: {
    name: "zmq_poll",
    parameters: ["buffer", "i32", LONG],
    result: "i32",
    nonblocking: true,
  },
  zmq_curve_keypair: { parameters: ["buffer", "buffer"], result: "i32", optional: true },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded library's functions. */
export type ZmqSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
