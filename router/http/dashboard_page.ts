/**
 * The live dashboard the Router serves at `/`: one self-contained HTML page (inline
 * CSS and script, no CDN, no build step) over the same-origin JSON API. It lists
 * pipelines live (SSE `/events`), draws a selected pipeline's DAG in SVG with each
 * job's state (SSE `/pipelines/:id/events`), shows a job's error and output, the
 * brokers' load, the schedules with their next runs, and a jobs-per-second chart. The script builds every node with
 * `textContent`/`setAttribute`, so ids, errors and outputs are never parsed as HTML.
 *
 * @module
 */

import { SCRIPT } from "./dashboard_script.ts";
import { STYLE } from "./dashboard_style.ts";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pipelinin</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>pipelin<span>in</span></h1>
  <div id="stats"></div>
  <div id="rate"></div>
</header>
<main>
  <section class="card"><h2>Pipelines</h2><ol id="pipelines"></ol>
    <button id="more" hidden>Show more</button></section>
  <section id="detail"><div class="card muted">Select a pipeline to see its DAG.</div></section>
  <aside><div class="card"><h2>Brokers</h2><div id="brokers"></div>
    <h2>Limits</h2><div id="limits"></div></div>
    <div class="card"><h2>Schedules</h2><div id="schedules"></div></div></aside>
</main>
<script type="module">${SCRIPT}</script>
</body>
</html>
`;

/** One self-contained HTML page: the live dashboard. */
export function dashboardPage(): string {
  return PAGE;
}
