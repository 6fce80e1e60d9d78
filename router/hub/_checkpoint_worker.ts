/**
 * Runs in a Web Worker beside the Router: checkpoints the store's write-ahead log
 * through its own connection, so that the disk work (and fsync) of moving pages into
 * the database never stalls the Router's thread. Started by `PipelineStore`.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";

interface Scope {
  postMessage(message: { type: "ready" } | { type: "error"; message: string }): void;
  onmessage: ((event: MessageEvent<{ path: string; intervalMs: number }>) => void) | null;
}

const scope = globalThis as unknown as Scope;

scope.onmessage = ({ data }) => {
  try {
    const db = new DatabaseSync(data.path);
    db.exec("PRAGMA busy_timeout = 1000");
    // PASSIVE: copies what it can without waiting on the Router's writes.
    const checkpoint = () => {
      try {
        db.exec("PRAGMA wal_checkpoint(PASSIVE)");
      } catch {
        // Busy now; the next round catches up.
      }
    };
    setInterval(checkpoint, data.intervalMs);
    scope.postMessage({ type: "ready" });
  } catch (error) {
    scope.postMessage({ type: "error", message: (error as Error).message });
  }
};
