export { campaignActivation } from './campaign-activation';
export { purgeExpiredContent } from './purge-expired-content';
export { sweepOrphanedExecutions } from './sweep-orphaned-executions';
export { triggerExecution } from './trigger-execution';
export { audienceExecution } from './audience-execution';
export { webhookDispatcher } from './webhook-dispatcher';
export { foldReportRollups } from './fold-report-rollups';
export { campaignStepsExecution } from './campaign-steps-execution';
