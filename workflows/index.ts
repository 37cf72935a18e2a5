export { campaignActivation } from './campaign-activation';
export { triggerExecution } from './trigger-execution';
