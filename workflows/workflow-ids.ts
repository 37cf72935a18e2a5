/** Keyed workflow IDs: one activation per campaign, one execution per campaign and requestId. */
export const activationWorkflowId = (campaignId: string) => `campaign/${campaignId}`;
export const executionWorkflowId = (campaignId: string, requestId: string) => `execution/${campaignId}/${requestId}`;
