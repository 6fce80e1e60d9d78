/**
 * Reading a map job's items, a page or one at a time (the record keeps counts only).
 *
 * @module
 */
import { ErrorName } from "../../../core/errors.ts";
import type { JobRecord, MapItemRecord, PipelineRecord } from "../../../core/protocol/mod.ts";
import type { Pipelines } from "./context.ts";
import { jobOptions } from "./decide.ts";
import { type ItemPage, itemPage } from "./map.ts";
import { ServiceError } from "./service_error.ts";

/** The job `jobId` of `record`, which must be a map job. */
function mapJob(record: PipelineRecord, jobId: string): JobRecord {
  const job = record.jobs.find((j) => j.jobId === jobId);
  if (!job || jobOptions(record.spec, jobId)?.map === undefined) {
    throw new ServiceError(
      ErrorName.PipelineNotFound,
      `Pipeline "${record.id}" has no map job "${jobId}"`,
    );
  }
  return job;
}

/** A page of the items of map job `jobId`, from `offset`. */
export function mapItemPage(
  ctx: Pipelines,
  record: PipelineRecord,
  jobId: string,
  offset: number,
  limit: number,
): ItemPage {
  return itemPage(ctx, record.id, mapJob(record, jobId), offset, limit);
}

/** Item `index` of map job `jobId`. */
export function oneMapItem(
  ctx: Pipelines,
  record: PipelineRecord,
  jobId: string,
  index: number,
): MapItemRecord {
  const [item] = itemPage(ctx, record.id, mapJob(record, jobId), index, 1).items;
  if (!item || item.index !== index) {
    throw new ServiceError(
      ErrorName.PipelineNotFound,
      `Job "${jobId}" of pipeline "${record.id}" has no item ${index}`,
    );
  }
  return item;
}
