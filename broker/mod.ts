/**
 * The Broker: runs the function modules of a folder in warm pools of sandboxed Web
 * Workers, inside worker host processes that take their jobs from the Router. Many
 * per cluster. Its code is sorted by the process it runs in: `supervisor/` (this
 * process), `host/` (each worker host), `worker/` (each Web Worker beside user code),
 * and `messages/` between them.
 *
 * ```ts
 * import { start } from "./broker/mod.ts";
 * const broker = await start({ router: "tcp://127.0.0.1:5555", functionsDir: "functions" });
 * await broker.stop();
 * ```
 *
 * @module
 */
export {
  type BrokerConfig,
  type BrokerHandle,
  DEFAULT_PREFETCH,
  start,
} from "./supervisor/broker.ts";
export { fileStore } from "./supervisor/file_store_spec.ts";
export type {
  Store,
  StoreJob,
  StoreModule,
  StorePermissions,
  StoreSpec,
} from "./messages/store.ts";
