/** Keyed workflow IDs: one activation per campaign, one execution per campaign and requestId. */
export const activationWorkflowId = (campaignId: string) => `campaign/${campaignId}`;
export const executionWorkflowId = (campaignId: string, requestId: string) => `execution/${campaignId}/${requestId}`;
/**
 * One orphan sweep per Herald deployment, which is one task queue and one database: deployments
 * sharing a namespace each sweep their own. Scheduled runs get this ID plus a timestamp.
 */
export const orphanSweepScheduleId = (taskQueue: string) => `herald/orphan-sweep/${taskQueue}`;
/** One retention purge per deployment, like the orphan sweep. */
export const retentionScheduleId = (taskQueue: string) => `herald/retention/${taskQueue}`;
/** One report-rollup fold per deployment, like the orphan sweep. */
export const reportRollupScheduleId = (taskQueue: string) => `herald/report-rollups/${taskQueue}`;
/** Every housekeeping schedule of a deployment (src/worker/housekeeping-schedules.ts), e.g. to delete them with its task queue. */
export const housekeepingScheduleIds = (taskQueue: string) => [
  orphanSweepScheduleId(taskQueue),
  retentionScheduleId(taskQueue),
  reportRollupScheduleId(taskQueue),
];
/** One feedback webhook dispatcher per endpoint. */
export const webhookDispatcherWorkflowId = (endpointId: string) => `webhook/${endpointId}`;
/** One audience execution per campaign and requestId. */
export const audienceExecutionWorkflowId = (campaignId: string, requestId: string) => `audience-execution/${campaignId}/${requestId}`;
/**
 * One high-throughput dispatcher per partition and deployment (ADR 0010): it drains the partition's
 * rows of `ht_triggers`. Executions of high-throughput campaigns name it as their workflow.
 */
export const highThroughputDispatcherId = (taskQueue: string, partition: number) => `ht-dispatcher/${taskQueue}/${partition}`;
