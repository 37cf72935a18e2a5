export { campaignActivation } from './campaign-activation';
export { sweepOrphanedExecutions } from './sweep-orphaned-executions';
export { triggerExecution } from './trigger-execution';
