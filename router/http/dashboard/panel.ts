/**
 * What one dashboard panel is: its CSS and its browser script, both inlined into the
 * page after the core's (`dashboard_script.ts`). A panel's script registers itself
 * with the core's `dashboard` object (actions, detail sections, job sections, side
 * panels) and listens on its event bus, so a new panel is one new file and one line
 * in `panels.ts`.
 *
 * @module
 */

/** One panel. */
export interface Panel {
  /** Names it in the page (`<!-- panel: name -->`) and in errors. */
  readonly name: string;
  /** CSS, appended to the page's stylesheet. */
  readonly style: string;
  /** Plain browser JS (no template literals: it lives in a TS template string). */
  readonly script: string;
}
