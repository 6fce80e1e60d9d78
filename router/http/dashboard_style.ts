/**
 * The dashboard's CSS, inlined into its page (no CDN, no build step).
 *
 * @module
 */

/** The stylesheet. */
export const STYLE = `
:root {
  --bg: #f5f6f8; --card: #fff; --line: #e2e5ea; --text: #1e2430; --muted: #6b7280;
  --accent: #2563eb;
  --pending: #fbfcfd; --pending-b: #c4cad4; --queued: #f1f3f6; --queued-b: #9aa3b0;
  --running: #dbeafe; --running-b: #2563eb; --succeeded: #dcfce7; --succeeded-b: #16a34a;
  --failed: #fee2e2; --failed-b: #dc2626; --skipped: #f3f4f6; --skipped-b: #d8dbe0;
  --cancelled: #fef3c7; --cancelled-b: #d97706; --waiting: #f3e8ff; --waiting-b: #9333ea;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12px; }
header { display: flex; align-items: center; gap: 18px; padding: 10px 20px; background: var(--card);
  border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 18px; letter-spacing: -.01em; }
h1 span { color: var(--accent); }
h2 { margin: 0 0 10px; font-size: 12px; font-weight: 600; text-transform: uppercase;
  letter-spacing: .06em; color: var(--muted); }
#stats { display: flex; gap: 6px; flex-wrap: wrap; flex: 1; }
#rate { display: flex; align-items: center; gap: 10px; color: var(--muted); font-size: 12px; line-height: 1.2; }
#rate b { color: var(--text); font-size: 15px; }
main { display: grid; grid-template-columns: 310px minmax(0, 1fr) 270px; gap: 16px; padding: 16px 20px;
  align-items: start; }
@media (max-width: 1100px) { main { grid-template-columns: 1fr; } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px; }
.muted { color: var(--muted); }
.pill { display: inline-block; padding: 1px 8px; border-radius: 99px; font-size: 12px; font-weight: 500;
  border: 1px solid var(--queued-b); background: var(--queued); white-space: nowrap; }
.pill b { font-weight: 600; }
[data-s=pending] { background: var(--pending); border-color: var(--pending-b); }
[data-s=running] { background: var(--running); border-color: var(--running-b); color: #1e40af; }
[data-s=succeeded] { background: var(--succeeded); border-color: var(--succeeded-b); color: #166534; }
[data-s=failed] { background: var(--failed); border-color: var(--failed-b); color: #991b1b; }
[data-s=skipped] { background: var(--skipped); border-color: var(--skipped-b); color: var(--muted); }
[data-s=cancelled] { background: var(--cancelled); border-color: var(--cancelled-b); color: #92400e; }
[data-s=waiting] { background: var(--waiting); border-color: var(--waiting-b); color: #6b21a8; }
#pipelines { list-style: none; margin: 0; padding: 0; }
#pipelines li { padding: 9px 10px; border-radius: 8px; cursor: pointer; border: 1px solid transparent; }
#pipelines li:hover { background: #f3f5f8; }
#pipelines li.sel { background: #eef4ff; border-color: #c7d7fe; }
#pipelines li + li { margin-top: 2px; }
.row { display: flex; align-items: center; gap: 8px; }
.row .grow { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bar { display: flex; height: 6px; border-radius: 3px; background: #eceef2; overflow: hidden; margin: 6px 0 2px; }
.bar span { display: block; }
.bar [data-s=succeeded] { background: var(--succeeded-b); } .bar [data-s=failed] { background: var(--failed-b); }
.bar [data-s=running] { background: #60a5fa; } .bar [data-s=skipped] { background: #cbd0d8; }
.bar [data-s=cancelled] { background: var(--cancelled-b); }
.small { font-size: 12px; }
button { font: inherit; border: 1px solid var(--line); background: var(--card); border-radius: 7px;
  padding: 5px 12px; cursor: pointer; }
button:hover { border-color: var(--accent); color: var(--accent); }
#detail .head { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; margin-bottom: 12px; }
#detail .head .mono { font-size: 13px; font-weight: 600; }
.perr { margin: -4px 0 12px; color: #991b1b; font-weight: 500; }
.dagbox { overflow: auto; border: 1px solid var(--line); border-radius: 8px; background:
  radial-gradient(circle, #e6e9ee 1px, transparent 1px) 0 0 / 16px 16px, #fcfcfd; padding: 8px; }
#dag { display: block; margin: auto; max-width: 100%; height: auto; }
#dag .edge { fill: none; stroke: #9aa3b0; stroke-width: 1.5; }
#dag .node { cursor: pointer; }
#dag .node rect { fill: var(--pending); stroke: var(--pending-b); stroke-width: 1.5; }
#dag .node.sel rect { stroke-width: 3; }
#dag .node text { font-size: 12px; fill: var(--muted); }
#dag .node text.id { font-size: 13px; font-weight: 600; fill: var(--text); }
#dag [data-status=running] rect { fill: var(--running); stroke: var(--running-b); animation: pulse 1.2s infinite; }
#dag [data-status=succeeded] rect { fill: var(--succeeded); stroke: var(--succeeded-b); }
#dag [data-status=failed] rect { fill: var(--failed); stroke: var(--failed-b); }
#dag [data-status=skipped] rect { fill: var(--skipped); stroke: var(--skipped-b); stroke-dasharray: 4 3; }
#dag [data-status=skipped] text { fill: #9ca3af; }
#dag [data-status=cancelled] rect { fill: var(--cancelled); stroke: var(--cancelled-b); }
#dag [data-status=waiting] rect { fill: var(--waiting); stroke: var(--waiting-b); stroke-dasharray: 6 3; }
.signal { display: flex; gap: 8px; align-items: center; margin: 8px 0; }
.signal textarea { flex: 1; }
@keyframes pulse { 50% { stroke-opacity: .35; } }
.legend { display: flex; gap: 6px; flex-wrap: wrap; margin: 8px 0 0; }
.job { margin-top: 14px; }
.job h3 { margin: 0 0 8px; font-size: 15px; }
dl { display: grid; align-items: baseline; grid-template-columns: max-content 1fr; gap: 3px 14px; margin: 0 0 10px; }
dt { color: var(--muted); } dd { margin: 0; }
pre { margin: 6px 0 10px; padding: 10px 12px; background: #f7f8fa; border: 1px solid var(--line);
  border-radius: 8px; overflow: auto; max-height: 320px; white-space: pre-wrap; word-break: break-word; }
pre.err { background: #fff6f6; border-color: #f3c9c9; color: #7f1d1d; }
aside { display: grid; gap: 16px; align-content: start; }
.broker + .broker { margin-top: 12px; padding-top: 12px; border-top: 1px solid var(--line); }
.broker .stale { color: #b45309; }
#auth { position: fixed; inset: 0; background: rgba(30, 36, 48, .35); display: grid; place-items: center; }
#auth form { width: 320px; display: grid; gap: 10px; }
#auth input { font: inherit; padding: 7px 9px; border: 1px solid var(--line); border-radius: 7px; }
`;
