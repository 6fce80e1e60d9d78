/**
 * The dashboard's panels, in the order their scripts run. A new panel is a module
 * of its own beside these, added here.
 *
 * @module
 */
import { brokersPanel } from "./brokers.ts";
import { dagPanel } from "./dag.ts";
import { dynamicPanel } from "./dynamic.ts";
import { filtersPanel } from "./filters.ts";
import { functionsPanel } from "./functions.ts";
import { jobPanel } from "./job.ts";
import { jobLogsPanel } from "./job_logs.ts";
import { limitsPanel } from "./limits.ts";
import type { Panel } from "./panel.ts";
import { pipelineListPanel } from "./pipeline_list.ts";
import { pipelineViewPanel } from "./pipeline_view.ts";
import { schedulesPanel } from "./schedules.ts";
import { throughputPanel } from "./throughput.ts";
import { timelinePanel } from "./timeline.ts";

/** Every panel; filters first (the list reads them), the pipeline view before its sections. */
export const PANELS: readonly Panel[] = [
  filtersPanel,
  pipelineListPanel,
  pipelineViewPanel,
  dagPanel,
  timelinePanel,
  jobPanel,
  jobLogsPanel,
  dynamicPanel,
  throughputPanel,
  functionsPanel,
  brokersPanel,
  limitsPanel,
  schedulesPanel,
];
