/**
 * The live dashboard page (placeholder until the full page lands).
 *
 * @module
 */

/** One self-contained HTML page. */
export function dashboardPage(): string {
  return "<!doctype html><title>pipelinin</title><h1>pipelinin</h1>";
}
