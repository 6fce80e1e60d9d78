/**
 * The live dashboard the Router serves at `/`: one self-contained HTML page (inline
 * CSS and script, no CDN, no build step) over the same-origin JSON API. The core
 * script (`dashboard_script.ts`) gives helpers, an event bus and registries; each
 * panel (`dashboard/`) adds its part: filters, the virtualised list of pipelines,
 * the selected pipeline with its actions, DAG, timeline and job, per-function
 * rates, brokers and throughput. The panels share one module scope: the names a
 * panel declares are its own to keep unique, and some are meant to be shared (the
 * filter's `filterParams`, `setFilter`). Every node is built with `textContent` and
 * `setAttribute`, so ids, errors and outputs are never parsed as HTML.
 *
 * @module
 */

import { PANELS } from "./dashboard/panels.ts";
import { BOOT, SCRIPT } from "./dashboard_script.ts";
import { STYLE } from "./dashboard_style.ts";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pipelinin</title>
<style>${STYLE}${PANELS.map((p) => `/* panel: ${p.name} */${p.style}`).join("")}</style>
</head>
<body>
<header>
  <h1>pipelin<span>in</span></h1>
  <div id="stats"></div>
  <div id="rate"></div>
</header>
<nav id="filters" aria-label="Filters"></nav>
<main>
  <section class="card"><h2>Pipelines<span id="pcount"></span></h2>
    <div id="plist"><ol id="pipelines"></ol><p id="pempty" class="muted" hidden></p></div></section>
  <section id="detail"><div class="card muted">Select a pipeline to see its jobs.</div></section>
  <aside id="side"></aside>
</main>
<div id="notes" aria-live="polite"></div>
<script type="module">${SCRIPT}${
  PANELS.map((p) => `// ---- panel: ${p.name}\n${p.script}\n`).join("")
}${BOOT}</script>
</body>
</html>
`;

/** One self-contained HTML page: the live dashboard. */
export function dashboardPage(): string {
  return PAGE;
}
