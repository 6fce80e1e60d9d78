/**
 * WAL checkpoints in a worker thread with its own connection: done on the Router's
 * thread every ~1,000 pages, each one stalled it for milliseconds (the tail of a
 * chain's latency). If the worker cannot start, SQLite checkpoints on the Router's
 * connection again every 1,000 pages; if it falls behind, every 10,000.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

/** How often the background checkpoint runs. */
const CHECKPOINT_INTERVAL_MS = 500;
/** WAL pages after which the Router's own connection checkpoints anyway. */
const FALLBACK_CHECKPOINT_PAGES = 10_000;

/** The background checkpoints of one database; stop them before closing it. */
export interface Checkpoints {
  stop(): void;
}

/** Checkpoints the database of `db`, at `path`, in a worker thread. */
export function checkpointInBackground(db: DatabaseSync, path: string): Checkpoints {
  // Only as a safety net, should the worker fall behind: ~40 MB of WAL.
  db.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_CHECKPOINT_PAGES}`);
  const worker = new Worker(new URL("./_checkpoint_worker.ts", import.meta.url), {
    type: "module",
  });
  let running = true;
  const checkpointHere = () => {
    if (running) db.exec("PRAGMA wal_autocheckpoint = 1000");
  };
  worker.onmessage = ({ data }: MessageEvent<{ type: string }>) => {
    if (data.type === "error") checkpointHere();
  };
  worker.onerror = (event) => {
    event.preventDefault();
    checkpointHere();
  };
  worker.postMessage({ path, intervalMs: CHECKPOINT_INTERVAL_MS });
  return {
    stop() {
      running = false;
      worker.terminate();
    },
  };
}
